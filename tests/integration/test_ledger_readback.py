"""Every ledger entry the webhook path can store reads back (issue 12, item 4).

The entries are written with ``None`` attributes left out (dal.dynamo.to_item), so a read model that
requires a field the write path may leave out answers 502 for ever after the first delivery.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from local_stack.runtime import LambdaRuntime
from tests.conftest import FAKE_AWS_ENV
from tests.integration.conftest import REFS, Api, put_secret
from tests.integration.payments_support import (
    STRIPE_SECRET,
    create_order,
    ledger,
    post_stripe,
)


@pytest.fixture
def runtime(aws: None) -> LambdaRuntime:
    # The webhook secret is where a deployer puts it: the stack's Secrets Manager secret.
    put_secret("StripeWebhookSecret", STRIPE_SECRET)
    return LambdaRuntime(REFS, base_env=FAKE_AWS_ENV)


def _raw_event(event_type: str, obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "type": event_type,
        "created": int(time.time()),
        "data": {"object": obj},
    }


# Signed Stripe events the webhook accepts, each leaving out optional fields the write path drops.
def _sparse_events(order_id: str) -> dict[str, dict[str, Any]]:
    meta = {"order_id": order_id}
    return {
        # No amount, no currency: an event type we do not act on, attributed by metadata.
        "checkout_session_no_amount": _raw_event(
            "checkout.session.completed", {"id": "cs_test_1", "object": "checkout.session", "metadata": meta}
        ),
        # A success without amount or currency: an amount mismatch with null amount.
        "success_no_amount": _raw_event(
            "payment_intent.succeeded", {"id": "pi_sparse", "object": "payment_intent", "metadata": meta}
        ),
        # A failure without an object id: no payment reference at all.
        "failure_no_reference": _raw_event(
            "payment_intent.payment_failed", {"object": "payment_intent", "metadata": meta}
        ),
        # A refund naming no refund ids: kept for reconciliation.
        "refund_without_ids": _raw_event(
            "charge.refunded", {"id": "ch_sparse", "object": "charge", "amount_refunded": 100, "metadata": meta}
        ),
    }


@pytest.mark.parametrize("name", sorted(_sparse_events("x")))
def test_a_sparse_signed_event_is_recorded_and_the_ledger_still_reads(api: Api, name: str) -> None:
    # Given an order and a signed Stripe event that leaves out optional fields
    order = create_order(api)
    body = _sparse_events(order["order_id"])[name]
    # When it is delivered, then delivered again
    first = post_stripe(api, body)
    again = post_stripe(api, body)
    # Then both deliveries are 2xx, the second a duplicate with the first one's outcome
    assert first.status == 200, first.body
    assert (again.status, again.body["duplicate"], again.body["outcome"]) == (200, True, first.body["outcome"])
    # And the ledger reads back, for the owner and for ops, with the missing fields as null
    for user, groups in ((None, ()), ("ops-1", ("ops",))):
        entries = ledger(api, order["order_id"], **({"user": user} if user else {}), groups=groups)
        (entry,) = [e for e in entries if e["event_id"] == body["id"]]
        assert entry["outcome"] == first.body["outcome"]
        if name in ("checkout_session_no_amount", "success_no_amount"):
            assert (entry["amount"], entry["currency"]) == (None, None)


def test_an_unattributable_dispute_is_accepted_once_and_every_redelivery_answers_the_same(api: Api, ddb: Any) -> None:
    # Given a signed dispute event whose metadata names no order
    body = _raw_event("charge.dispute.created", {"id": "dp_1", "object": "dispute", "amount": 500, "metadata": {}})
    # When the provider delivers it three times
    results = [post_stripe(api, body) for _ in range(3)]
    # Then the first is recorded, the rest are duplicates of it: 2xx every time, never 502
    assert [(r.status, r.body["outcome"], r.body["duplicate"]) for r in results] == [
        (200, "UNKNOWN_ORDER", False),
        (200, "UNKNOWN_ORDER", True),
        (200, "UNKNOWN_ORDER", True),
    ]
    # And it is kept once for reconciliation
    queue = ddb.query(
        TableName="OrdersTable",
        IndexName="GSI3",
        KeyConditionExpression="GSI3PK = :q",
        ExpressionAttributeValues={":q": {"S": "QUEUE#PAYMENT_RECON#OPEN"}},
    )["Items"]
    assert [item["event_id"]["S"] for item in queue] == [body["id"]]


# --- every stored shape, at the DAL ------------------------------------------------------------------
def _stored_shapes() -> list[tuple[str, dict[str, Any]]]:
    """One PaymentEvent per combination the adapters can produce: each kind, each optional field absent."""
    from orders.models.payment import PaymentEventKind

    shapes: list[tuple[str, dict[str, Any]]] = []
    for kind in PaymentEventKind:
        shapes.append((f"{kind.value}-bare", {"kind": kind}))
        shapes.append(
            (
                f"{kind.value}-full",
                {
                    "kind": kind,
                    "amount": 0,
                    "currency": "USD",
                    "payment_reference": "pi_1",
                    "provider_references": {"charge": "ch_1"},
                    "refunds": [
                        {"refund_id": "re_1", "amount": 1},
                        {"refund_id": "re_2", "amount": 2, "our_refund_id": "r"},
                    ],
                    "subscription_expires_at": datetime(2030, 1, 1, tzinfo=UTC),
                    "occurred_at": datetime(2029, 1, 1, tzinfo=UTC),
                    "livemode": False,
                },
            )
        )
    return shapes


@pytest.mark.parametrize(("name", "fields"), _stored_shapes(), ids=[n for n, _ in _stored_shapes()])
def test_every_ledger_shape_and_outcome_reads_back(aws: None, name: str, fields: dict[str, Any]) -> None:
    from orders.dal.payments import PaymentsRepository
    from orders.models.api import LedgerEntryOut
    from orders.models.payment import LedgerEntry, PaymentEvent, PaymentOutcome, Provider

    repo = PaymentsRepository("OrdersTable", boto3.client("dynamodb", region_name="us-east-1"))
    for provider in Provider:
        for outcome in PaymentOutcome:
            # Given an entry of this shape, with details holding nulls and nested values
            event = PaymentEvent(
                provider=provider, event_id=f"{name}-{outcome.value}", event_type="t", order_id="ord-1", **fields
            )
            details = {"amount": None, "order_status": "PAID", "refunds": ["re_1"], "nested": {"a": None}}
            entry = LedgerEntry.of(event, received_at=datetime.now(UTC), outcome=outcome, **details)
            unmatched = LedgerEntry.of(
                event.model_copy(update={"order_id": None}), received_at=entry.received_at, outcome=outcome
            )
            # When it is stored under its order, and (unattributed) in the reconciliation queue
            repo.record(entry)
            repo.record_unmatched(unmatched)
            # Then both read back equal to what was stored, and serialise for the API
            assert repo.get_entry("ord-1", provider.value, event.event_id) == entry
            assert repo.get_entry(None, provider.value, event.event_id) == unmatched
            json.dumps(LedgerEntryOut.of(entry).model_dump(mode="json"))
    assert len(repo.list_for_order("ord-1")) == len(Provider) * len(PaymentOutcome)
