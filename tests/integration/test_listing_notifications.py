"""The merchant user who submitted a listing hears its outcome: notify on moto, fed by OrdersTable's stream."""

from __future__ import annotations

from typing import Any

from local_stack.runtime import LambdaRuntime
from orders.models.common import utcnow
from orders.models.merchant import Listing, ListingKind, ListingStatus
from orders.models.refund import Decision
from tests.integration.conftest import Api
from tests.integration.notify_support import Notify
from tests.integration.test_listings import SCARF, propose
from tests.integration.test_merchants import NORTH

MERCHANT_USER = "merchant-user"


def pending_change(price: int, number: int) -> Listing:
    now = utcnow()
    return Listing(
        listing_id=f"lst_{NORTH}_{number:018x}",
        merchant_id=NORTH,
        sku="mug-classic",
        kind=ListingKind.UPDATE,
        changes={"price": price},
        status=ListingStatus.PENDING_REVIEW,
        user_id=MERCHANT_USER,
        submitted_at=now,
        updated_at=now,
    )


def test_the_merchant_hears_each_listing_outcome(
    notify: Notify, api: Api, make_event: Any, ddb: Any, runtime: LambdaRuntime
) -> None:
    from orders.dal.repos import merchants_repository
    from orders.logic import listings

    # Given a merchant user who wants e-mail
    body = {"channels": ["email"], "locale": "en", "email": "shop@northloom.example"}
    assert api(make_event("preferences_put_preferences", user=MERCHANT_USER, body=body)).status == 200
    # When a listing of theirs is refused by the checks, one is approved and one rejected by a reviewer
    refused = propose(api, SCARF | {"name": "Replica scarf"})
    assert refused.body["status"] == "AUTO_REJECTED"
    runtime._enter("ListingReviewFunction")
    repo = merchants_repository()
    for number, decision in enumerate((Decision.APPROVE, Decision.REJECT), start=1):
        listing = pending_change(1300 + number, number)
        repo.transact(repo.put_listing(listing))
        listings._apply(listing, decision, actor="reviewer:r1", note="checked")
    notify.drain()
    # Then they got one e-mail per outcome (none for the submission itself), with the reason where refused
    emails = notify.emails()
    assert [email.subject for email in emails] == [
        "Listing scarf-wool was not accepted",
        "Listing mug-classic approved",
        "Listing mug-classic declined",
    ]
    assert "BANNED_WORDS" in emails[0].body and "replica" in emails[0].body
    assert "REVIEWER_REJECTED" in emails[2].body
    assert {tuple(email.destinations["ToAddresses"]) for email in emails} == {("shop@northloom.example",)}
    # And the dedupe records live under the merchant, not under an order; a redelivery sends nothing again
    sent = ddb.query(
        TableName="OrdersTable",
        KeyConditionExpression="PK = :pk AND begins_with(SK, :p)",
        ExpressionAttributeValues={":pk": {"S": f"MERCHANT#{NORTH}"}, ":p": {"S": "NOTIFY#listing#"}},
    )["Items"]
    assert len(sent) == 3 and {item["status"]["S"] for item in sent} == {"SENT"}
    notify.drain()
    assert len(notify.emails()) == 3
