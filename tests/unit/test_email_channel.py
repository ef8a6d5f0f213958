"""E-mail through SES: the configuration set and user tag on every send, MessageRejected retried,
bounces and complaints disabling that address for that user."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from orders.adapters.channels import SendingNotAllowed, SesEmailNotifier
from orders.logic.email_events import handle_ses_event
from orders.logic.notify import plan_deliveries
from orders.logic.ports import PermanentDeliveryError
from orders.models.notification import Channel, Message, Preferences

MESSAGE = Message(subject="Shipped", body="Your order shipped.", short="Shipped")


def ses() -> tuple[Any, Stubber]:
    client = boto3.client("ses", region_name="us-east-1")
    return client, Stubber(client)


def test_every_email_goes_through_the_configuration_set_tagged_with_its_user() -> None:
    client, stub = ses()
    expected = {
        "Source": "orders@example.org",
        "Destination": {"ToAddresses": ["ada@example.com"]},
        "Message": ANY,
        "ConfigurationSetName": "orders-dev-email",
        "Tags": [{"Name": "user_id", "Value": "3f1c-uuid_x"}],
    }
    stub.add_response("send_email", {"MessageId": "m-1"}, expected)
    with stub:
        sent = SesEmailNotifier("orders@example.org", client, "orders-dev-email").send(
            "ada@example.com", MESSAGE, user_id="3f1c-uuid/x"
        )
    assert sent == "m-1"


def test_a_rejected_send_is_retried_not_marked_failed_for_good() -> None:
    # Given SES refuses to send (sandbox: the recipient is not verified)
    client, stub = ses()
    stub.add_client_error("send_email", "MessageRejected", "Email address is not verified.")
    # When notify sends, Then it is a transient error (the record is retried, then reaches the alarmed queue)
    with stub, pytest.raises(SendingNotAllowed, match="sandbox"):
        SesEmailNotifier("orders@example.org", client).send("ada@example.com", MESSAGE)


def test_a_malformed_address_is_still_permanent() -> None:
    client, stub = ses()
    stub.add_client_error("send_email", "InvalidParameterValue", "Missing final '@domain'")
    with stub, pytest.raises(PermanentDeliveryError):
        SesEmailNotifier("orders@example.org", client).send("ada@", MESSAGE)


class Users:
    def __init__(self) -> None:
        self.suppressed: list[tuple[str, str, str]] = []

    def suppress_email(self, user_id: str, address: str, reason: str, at: Any) -> None:
        self.suppressed.append((user_id, address, reason))


def ses_event(kind: str, **body: Any) -> dict[str, Any]:
    """SES event publishing JSON (the SNS message), as documented for configuration sets."""
    return {"eventType": kind, "mail": {"messageId": "m-1", "tags": {"user_id": ["user-1"]}}, **body}


def test_a_permanent_bounce_disables_that_address_for_that_user() -> None:
    users = Users()
    bounce = {
        "bounceType": "Permanent",
        "bounceSubType": "General",
        "bouncedRecipients": [{"emailAddress": "Ada@Example.com"}],
    }
    outcome = handle_ses_event(ses_event("Bounce", bounce=bounce), users)
    assert outcome.suppressed == [("user-1", "Ada@Example.com")]
    assert users.suppressed[0][2] == "ses bounce: Permanent/General"


def test_a_complaint_disables_it_too_and_a_transient_bounce_does_not() -> None:
    users = Users()
    complaint = {"complainedRecipients": [{"emailAddress": "ada@example.com"}], "complaintFeedbackType": "abuse"}
    handle_ses_event(ses_event("Complaint", complaint=complaint), users)
    transient = {"bounceType": "Transient", "bouncedRecipients": [{"emailAddress": "bob@example.com"}]}
    assert handle_ses_event(ses_event("Bounce", bounce=transient), users).ignored == "bounce Transient"
    assert [address for _, address, _ in users.suppressed] == ["ada@example.com"]


def test_a_suppressed_address_gets_no_more_email_but_a_new_address_does() -> None:
    prefs = Preferences(
        user_id="user-1", channels=[Channel.EMAIL], email="ada@example.com", updated_at=datetime.now(UTC)
    )
    assert plan_deliveries(prefs, [], MESSAGE, lambda: None, frozenset({"ada@example.com"})) == []
    moved = prefs.model_copy(update={"email": "ada@new.example"})
    assert [d.to for d in plan_deliveries(moved, [], MESSAGE, lambda: None, frozenset({"ada@example.com"}))] == [
        "ada@new.example"
    ]
