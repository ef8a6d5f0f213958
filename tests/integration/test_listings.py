"""Listing review end to end on moto: the real handlers behind the API and behind the state machine's Lambda
task, the real definition (statemachines/listing.asl.json)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from local_stack.runtime import LambdaRuntime
from tests.conftest import FAKE_AWS_ENV, api_event
from tests.integration.conftest import REFS, Api
from tests.integration.stepfunctions import Workflows, workflow_refs, workflows
from tests.integration.test_merchants import NORTH, PIXEL, as_merchant

SM = "ListingStateMachine"
REVIEWER = "reviewer-0001"
SCARF = {
    "sku": "scarf-wool",
    "kind": "physical",
    "price": 3200,
    "currency": "USD",
    "name": "Wool Scarf",
    "description": "Merino wool, 180 cm.",
    "category": "apparel",
    "tags": ["wool"],
    "images": ["https://img.northloom.example/scarf/1.jpg"],
    "stock": 50,
}


@pytest.fixture
def review_timeout() -> str:
    return "172800"


@pytest.fixture
def timeout_action() -> str:
    return "reject"


@pytest.fixture
def runtime(aws: None, review_timeout: str, timeout_action: str) -> LambdaRuntime:
    settings = {"ListingReviewTimeoutSeconds": review_timeout, "ListingReviewTimeoutAction": timeout_action}
    refs = REFS | workflow_refs() | settings
    return LambdaRuntime(refs, base_env=FAKE_AWS_ENV)


@pytest.fixture
def flows(runtime: LambdaRuntime) -> Iterator[Workflows]:
    from orders.dal.workflow import sfn_client

    sfn_client.cache_clear()
    with workflows(runtime, REFS | workflow_refs()) as deployed:
        yield deployed
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        for item in ddb.scan(TableName="OrdersTable", FilterExpression="attribute_exists(task_token)")["Items"]:
            with contextlib.suppress(Exception):
                deployed.sfn.send_task_failure(taskToken=item["task_token"]["S"], error="TestTeardown")
        for execution in deployed.executions(SM):
            with contextlib.suppress(AssertionError):
                deployed.wait(execution["executionArn"], timeout=10)
    sfn_client.cache_clear()


# --- helpers ----------------------------------------------------------------------------------------
def propose(api: Api, body: dict[str, Any], merchant: str = NORTH) -> Any:
    return api(as_merchant("merchant_propose_product", merchant, body=body))


def change(api: Api, sku: str, body: dict[str, Any], merchant: str = NORTH) -> Any:
    return api(as_merchant("merchant_propose_change", merchant, body=body, path_params={"sku": sku}))


def queue(api: Api) -> list[str]:
    query = {"status": "PENDING_REVIEW"}
    response = api(api_event("listing_review_review_queue", user=REVIEWER, groups=("reviewer",), query=query))
    assert response.status == 200, response.body
    return [item["listing_id"] for item in response.body["items"]]


def decide(api: Api, listing_id: str, decision: str) -> Any:
    return api(
        api_event(
            "listing_review_decide",
            user=REVIEWER,
            groups=("reviewer",),
            body={"decision": decision, "note": f"{decision}d"},
            path_params={"listing_id": listing_id},
        )
    )


def product(api: Api, sku: str) -> Any:
    return api(api_event("catalog_get_product", path_params={"sku": sku}))


def listings_of(api: Api, merchant: str) -> list[dict[str, Any]]:
    return api(as_merchant("merchant_list_listings", merchant)).body["items"]  # type: ignore[no-any-return]


def wait_until(check: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)
    return value


def awaiting_review(api: Api, listing_id: str) -> None:
    wait_until(lambda: listing_id in queue(api))


def states(flows: Workflows, listing_id: str) -> list[str]:
    arn = flows.execution_arn(SM, listing_id)
    assert flows.wait(arn)["status"] == "SUCCEEDED"
    return flows.states_entered(arn)


# --- automatic checks ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("changes", "reason_code"),
    [
        ({"description": ""}, "MISSING_FIELDS"),
        ({"price": 20}, "PRICE_OUT_OF_BOUNDS"),
        ({"name": "Cashmere REPLICA scarf"}, "BANNED_WORDS"),
        ({"tags": ["knockoff"]}, "BANNED_WORDS"),
        ({"images": []}, "IMAGE_COUNT"),
        ({"images": [f"https://img.example/{n}.jpg" for n in range(9)]}, "IMAGE_COUNT"),
    ],
)
def test_a_listing_that_fails_the_automatic_checks_is_refused_at_once(
    api: Api, flows: Workflows, changes: dict[str, Any], reason_code: str
) -> None:
    # When north-loom proposes a product that breaks one rule
    response = propose(api, SCARF | changes)
    # Then the listing is AUTO_REJECTED with a clear reason, no review starts, the catalog is untouched
    assert response.status == 202, response.body
    assert (response.body["status"], response.body["reason_code"]) == ("AUTO_REJECTED", reason_code)
    assert response.body["reason"] and response.body["decided_by"] == "system:checks"
    assert flows.executions(SM) == []
    assert product(api, "scarf-wool").status == 404
    # And the merchant sees it with its reason; the sku stays free to list again
    listed = [(item["status"], item["reason_code"]) for item in listings_of(api, NORTH)]
    assert listed == [("AUTO_REJECTED", reason_code)]
    again = propose(api, SCARF)
    assert again.body["status"] == "PENDING_REVIEW", again.body


# --- review --------------------------------------------------------------------------------------
def test_an_approved_new_product_goes_on_sale(api: Api, flows: Workflows) -> None:
    # Given a proposed product that passed the checks
    listing = propose(api, SCARF).body
    assert listing["status"] == "PENDING_REVIEW" and listing["review_due_at"]
    assert product(api, "scarf-wool").status == 404  # not on sale while under review
    # When a reviewer finds it in the queue and approves it
    awaiting_review(api, listing["listing_id"])
    decided = decide(api, listing["listing_id"], "approve")
    # Then it is on sale, the merchant's, exactly as proposed
    assert decided.status == 200, decided.body
    assert (decided.body["status"], decided.body["decided_by"]) == ("APPROVED", f"reviewer:{REVIEWER}")
    live = product(api, "scarf-wool").body
    assert (live["merchant_id"], live["price"], live["images"]) == (NORTH, 3200, SCARF["images"])
    assert queue(api) == []
    assert states(flows, listing["listing_id"]) == ["AwaitReview", "Decision?", "Approved"]


def test_a_change_is_live_only_once_approved(api: Api, flows: Workflows) -> None:
    # Given north-loom's mug at 1200
    listing = change(api, "mug-classic", {"price": 1350, "description": "Ceramic, dishwasher safe."}).body
    assert listing["status"] == "PENDING_REVIEW", listing
    awaiting_review(api, listing["listing_id"])
    # While it is reviewed the live product is unchanged
    assert product(api, "mug-classic").body["price"] == 1200
    # When it is approved the change is live
    assert decide(api, listing["listing_id"], "approve").status == 200
    live = product(api, "mug-classic").body
    assert (live["price"], live["description"], live["name"]) == (1350, "Ceramic, dishwasher safe.", "Classic Mug")


def test_a_rejected_change_leaves_the_live_product_unchanged(api: Api, flows: Workflows) -> None:
    before = product(api, "mug-classic").body
    listing = change(api, "mug-classic", {"price": 9999}).body
    awaiting_review(api, listing["listing_id"])
    rejected = decide(api, listing["listing_id"], "reject")
    assert rejected.status == 200, rejected.body
    assert (rejected.body["status"], rejected.body["reason_code"]) == ("REJECTED", "REVIEWER_REJECTED")
    assert product(api, "mug-classic").body == before
    assert states(flows, listing["listing_id"]) == ["AwaitReview", "Decision?", "Rejected"]


def test_a_duplicate_decision_has_one_effect(api: Api, flows: Workflows) -> None:
    # Given an approved price change
    listing = change(api, "mug-classic", {"price": 1400}).body
    awaiting_review(api, listing["listing_id"])
    assert decide(api, listing["listing_id"], "approve").status == 200
    # When the same or the opposite decision arrives again
    again = decide(api, listing["listing_id"], "approve")
    opposite = decide(api, listing["listing_id"], "reject")
    # Then both are refused and nothing changes a second time
    assert [(r.status, r.body["code"]) for r in (again, opposite)] == [(409, "LISTING_ALREADY_DECIDED")] * 2
    assert product(api, "mug-classic").body["price"] == 1400
    assert [item["status"] for item in listings_of(api, NORTH)] == ["APPROVED"]


def test_one_open_listing_per_sku_and_another_merchants_product_is_404(api: Api, flows: Workflows) -> None:
    first = change(api, "mug-classic", {"price": 1300})
    assert first.status == 202
    second = change(api, "mug-classic", {"price": 1310})
    assert (second.status, second.body["code"]) == (409, "LISTING_ALREADY_OPEN")
    # pixel-forge cannot propose changes to north-loom's mug, nor take an existing sku
    assert (change(api, "mug-classic", {"price": 1}, merchant=PIXEL).body["code"]) == "PRODUCT_NOT_FOUND"
    assert change(api, "mug-classic", {"price": 1}, merchant=PIXEL).status == 404
    taken = propose(api, SCARF | {"sku": "coins-500"}, merchant=PIXEL)
    assert (taken.status, taken.body["code"]) == (409, "PRODUCT_EXISTS")
    # and listings are per merchant
    assert listings_of(api, PIXEL) == []


# --- deadline -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("review_timeout", ["2"])
def test_the_deadline_applies_the_timeout_action_reject(api: Api, flows: Workflows) -> None:
    listing = change(api, "mug-classic", {"price": 1500}).body
    # When nobody decides before the deadline
    arn = flows.execution_arn(SM, listing["listing_id"])
    assert flows.wait(arn, timeout=30)["status"] == "SUCCEEDED"
    # Then the timeout action (reject) applies, decided by the system, and the product is unchanged
    (final,) = listings_of(api, NORTH)
    outcome = (final["status"], final["reason_code"], final["decided_by"])
    assert outcome == ("REJECTED", "REVIEW_TIMED_OUT", "system:timeout")
    assert product(api, "mug-classic").body["price"] == 1200
    assert flows.states_entered(arn) == ["AwaitReview", "RecordTimeout", "Decision?", "Rejected"]
    # And a reviewer arriving late is told so
    late = decide(api, listing["listing_id"], "approve")
    assert (late.status, late.body["code"]) == (409, "LISTING_REVIEW_EXPIRED")


@pytest.mark.parametrize(("review_timeout", "timeout_action"), [("2", "approve")])
def test_the_deadline_applies_the_timeout_action_approve(api: Api, flows: Workflows) -> None:
    listing = propose(api, SCARF).body
    arn = flows.execution_arn(SM, listing["listing_id"])
    assert flows.wait(arn, timeout=30)["status"] == "SUCCEEDED"
    (final,) = listings_of(api, NORTH)
    assert (final["status"], final["decided_by"]) == ("APPROVED", "system:timeout")
    assert product(api, "scarf-wool").body["merchant_id"] == NORTH
    assert flows.states_entered(arn) == ["AwaitReview", "RecordTimeout", "Decision?", "Approved"]


# --- atomic approval --------------------------------------------------------------------------------
def _calls_during(action: Any) -> tuple[Any, list[str]]:
    """The DynamoDB operations the handlers make while ``action`` runs (botocore's before-call event)."""
    from orders.dal.dynamo import dynamodb_client

    calls: list[str] = []

    def count(model: Any, **kwargs: Any) -> None:
        calls.append(model.name)

    events = dynamodb_client().meta.events
    events.register("before-call.dynamodb", count)
    try:
        return action(), calls
    finally:
        events.unregister("before-call.dynamodb", count)


@pytest.mark.parametrize(
    ("submit", "expected"),
    [
        # a change: the listing, the product with its index state, the transaction, the product as stored
        (
            lambda api: change(api, "mug-classic", {"price": 1350}),
            ["GetItem", "GetItem", "TransactWriteItems", "GetItem"],
        ),
        (lambda api: propose(api, SCARF), ["GetItem", "TransactWriteItems"]),
    ],
    ids=["change", "new product"],
)
def test_an_approval_is_one_transaction_with_the_catalog(
    api: Api, flows: Workflows, submit: Any, expected: list[str]
) -> None:
    listing = submit(api).body
    awaiting_review(api, listing["listing_id"])
    # When a reviewer approves it
    decided, calls = _calls_during(lambda: decide(api, listing["listing_id"], "approve"))
    # Then the listing, the product and the sku's lock were written by one TransactWriteItems
    assert decided.status == 200, decided.body
    print(f"\nDynamoDB calls per approval ({listing['kind']}): {len(calls)}: {' + '.join(calls)}")
    assert calls == expected


def test_an_approval_that_no_longer_fits_the_product_changes_nothing_in_the_catalog(
    api: Api, flows: Workflows, ddb: Any
) -> None:
    # Given a price change under review, and then ops hand the mug to another merchant
    listing = change(api, "mug-classic", {"price": 1350}).body
    awaiting_review(api, listing["listing_id"])
    ddb.update_item(
        TableName="CatalogTable",
        Key={"sku": {"S": "mug-classic"}},
        UpdateExpression="SET merchant_id = :m",
        ExpressionAttributeValues={":m": {"S": PIXEL}},
    )
    # When a reviewer approves the old owner's change
    decided = decide(api, listing["listing_id"], "approve")
    # Then the product write was refused inside the transaction: the listing is closed, the price is as it was
    assert (decided.body["status"], decided.body["reason_code"]) == ("REJECTED", "PRODUCT_CHANGED")
    assert product(api, "mug-classic").body["price"] == 1200
    assert states(flows, listing["listing_id"]) == ["AwaitReview", "Decision?", "Rejected"]


def test_a_stale_approval_writes_neither_the_listing_nor_the_product(
    api: Api, flows: Workflows, runtime: LambdaRuntime
) -> None:
    from orders import errors
    from orders.dal.repos import merchants_repository
    from orders.logic import listings
    from orders.models.refund import Decision

    # Given a change a reviewer rejected, and the listing as it was read before that decision
    listing = change(api, "mug-classic", {"price": 1350}).body
    awaiting_review(api, listing["listing_id"])
    runtime._enter("ListingReviewFunction")
    stale = merchants_repository().listing(listing["listing_id"])
    assert decide(api, listing["listing_id"], "reject").status == 200
    # When an approval decided from the stale read is written
    runtime._enter("ListingReviewFunction")
    with pytest.raises(errors.ConcurrentModification):
        listings._apply(stale, Decision.APPROVE, actor="reviewer:late", note=None)  # type: ignore[arg-type]
    # Then the transaction refused it whole: the product keeps its price, the listing stays REJECTED
    assert product(api, "mug-classic").body["price"] == 1200
    assert [item["status"] for item in listings_of(api, NORTH)] == ["REJECTED"]
