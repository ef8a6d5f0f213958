"""Contract: the fake Stripe emits what Stripe's OpenAPI spec defines, and the adapter reads Stripe's own fixtures.

Schemas and fixtures come from the public stripe/openapi repository (tests/contract/stripe/README.md).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import stripe

from local_stack.fake_stripe import LOCAL_API_KEY, FakeStripe, FakeStripeServer
from orders.adapters.payments.stripe_adapter import API_VERSION, to_event
from orders.models.payment import PaymentEventKind
from tests.contract.stripe.contract import event, fixture, schema_errors

VALIDATED: Counter[str] = Counter()


@pytest.fixture
def fake() -> Iterator[FakeStripeServer]:
    server = FakeStripeServer(FakeStripe())  # no webhook URL: events are kept in memory
    server.start()
    yield server
    server.stop()


def _client(fake: FakeStripeServer) -> stripe.StripeClient:
    return stripe.StripeClient(
        LOCAL_API_KEY, base_addresses={"api": fake.url}, max_network_retries=0, stripe_version=API_VERSION
    )


def _every_flow(client: stripe.StripeClient) -> list[dict[str, Any]]:
    """Pay, refund partly and fully, decline, cancel, dispute (lost and won); the API's answers."""
    answers: list[dict[str, Any]] = []

    def pay(method: str, amount: int = 499) -> dict[str, Any]:
        intent = client.v1.payment_intents.create(
            params={"amount": amount, "currency": "usd", "metadata": {"order_id": "ord_contract"}}
        )
        answers.append(intent.to_dict())
        try:
            confirmed = client.v1.payment_intents.confirm(intent.id, params={"payment_method": method})
        except stripe.CardError:
            return client.v1.payment_intents.retrieve(intent.id).to_dict()
        answers.append(confirmed.to_dict())
        return confirmed.to_dict()

    paid = pay("pm_card_visa")
    answers.append(client.v1.refunds.create(params={"payment_intent": paid["id"], "amount": 200}).to_dict())
    answers.append(client.v1.refunds.create(params={"payment_intent": paid["id"]}).to_dict())
    answers.append(pay("pm_card_chargeDeclined"))
    unpaid = client.v1.payment_intents.create(params={"amount": 100, "currency": "usd"})
    answers.append(client.v1.payment_intents.cancel(unpaid.id).to_dict())
    pay("pm_card_createDispute")  # closed lost, then
    pay("pm_card_createDispute")  # closed won, by the test
    return answers


def test_every_object_and_event_the_fake_emits_matches_stripes_schema(fake: FakeStripeServer) -> None:
    # Given every flow the product uses, driven through the stripe SDK
    answers = _every_flow(_client(fake))
    for dispute, evidence in zip(fake.fake.disputes.values(), ("losing_evidence", "winning_evidence"), strict=True):
        answers.append(
            stripe.StripeClient(LOCAL_API_KEY, base_addresses={"api": fake.url})
            .v1.disputes.update(dispute["id"], params={"evidence": {"uncategorized_text": evidence}})
            .to_dict()
        )
    events = fake.fake.events
    # When each API answer, each event and each event's object is checked against the spec's schema
    errors: dict[str, list[str]] = {}
    for obj in [*answers, *events, *(e["data"]["object"] for e in events)]:
        kind = str(obj["object"])
        errors.update({f"{kind} {obj['id']}": found for found in [schema_errors(kind, obj)] if found})
        VALIDATED[kind] += 1
    # Then none breaks it, and every event type the product handles was emitted
    assert errors == {}
    assert {e["type"] for e in events} >= {
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "payment_intent.canceled",
        "refund.created",
        "charge.refunded",
        "charge.dispute.created",
        "charge.dispute.closed",
    }
    print(f"validated {sum(VALIDATED.values())} fake-emitted objects: {dict(sorted(VALIDATED.items()))}")


def test_the_charge_the_fake_sends_has_no_refunds_list(fake: FakeStripeServer) -> None:
    _every_flow(_client(fake))
    charges = [e["data"]["object"] for e in fake.fake.events if e["type"] == "charge.refunded"]
    assert charges and all("refunds" not in c for c in charges)
    assert all(e["api_version"] == API_VERSION for e in fake.fake.events)


def test_the_schema_check_refuses_what_stripe_would_not_send() -> None:
    # A charge with the pre-2022 embedded refund list lacking its required fields, and a refund with no amount
    charge = fixture("charge", refunds={"data": [{"id": "re_1"}]})
    refund = fixture("refund")
    del refund["amount"]
    assert schema_errors("charge", charge)
    assert schema_errors("refund", refund)
    assert schema_errors("charge", fixture("charge")) == []


# --- the adapter reads Stripe's own fixtures -----------------------------------------------------
def test_the_adapter_reads_stripes_payment_intent_fixture() -> None:
    intent = fixture("payment_intent", metadata={"order_id": "ord_1"})
    parsed = to_event(event("payment_intent.succeeded", intent))
    assert (parsed.kind, parsed.order_id, parsed.payment_reference) == (
        PaymentEventKind.SUCCEEDED,
        "ord_1",
        intent["id"],
    )
    assert (parsed.amount, parsed.currency) == (intent["amount"], intent["currency"].upper())
    assert to_event(event("payment_intent.canceled", intent)).kind is PaymentEventKind.FAILED
    assert to_event(event("payment_intent.payment_failed", intent)).kind is PaymentEventKind.FAILED


@pytest.mark.parametrize(
    ("event_type", "status", "kind"),
    [
        ("refund.created", "succeeded", PaymentEventKind.REFUNDED),
        ("refund.created", "pending", PaymentEventKind.NOTICE),
        ("refund.updated", "succeeded", PaymentEventKind.REFUNDED),
        ("refund.failed", "failed", PaymentEventKind.REFUND_FAILED),
    ],
)
def test_the_adapter_reads_stripes_refund_fixture(event_type: str, status: str, kind: PaymentEventKind) -> None:
    refund = fixture("refund", status=status, payment_intent="pi_fixture")
    parsed = to_event(event(event_type, refund))
    assert parsed.kind is kind
    assert parsed.payment_reference == "pi_fixture"
    assert [(r.refund_id, r.amount) for r in parsed.refunds] == [(refund["id"], refund["amount"])]


def test_the_adapter_reads_stripes_charge_fixture_without_counting_from_it() -> None:
    charge = fixture("charge", payment_intent="pi_fixture", amount_refunded=300)
    parsed = to_event(event("charge.refunded", charge))
    # Counting is left to refund.*: the charge's (expanded, in the fixture) list is never read
    assert (parsed.kind, parsed.refunds, parsed.amount) == (PaymentEventKind.OTHER, [], 300)


@pytest.mark.parametrize(
    ("event_type", "status", "kind"),
    [
        ("charge.dispute.created", "needs_response", PaymentEventKind.DISPUTE_OPENED),
        ("charge.dispute.closed", "lost", PaymentEventKind.REFUNDED),
        ("charge.dispute.closed", "won", PaymentEventKind.NOTICE),
    ],
)
def test_the_adapter_reads_stripes_dispute_fixture(event_type: str, status: str, kind: PaymentEventKind) -> None:
    dispute = fixture("dispute", status=status, payment_intent="pi_fixture")
    parsed = to_event(event(event_type, dispute))
    assert (parsed.kind, parsed.payment_reference) == (kind, "pi_fixture")
    if kind is PaymentEventKind.REFUNDED:
        assert [(r.refund_id, r.amount) for r in parsed.refunds] == [(f"dispute:{dispute['id']}", dispute["amount"])]
