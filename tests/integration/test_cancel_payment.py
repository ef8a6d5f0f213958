"""Cancelling an order cancels its payment at the provider; money that arrives anyway is refunded automatically.

The local fake Stripe serves the API over loopback (the stripe SDK talks to it); its webhooks are not sent
by itself here: each test delivers the events it emitted, signed, when it wants them to arrive.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from local_stack.fake_stripe import LOCAL_WEBHOOK_SECRET, FakeStripe, FakeStripeServer, sign
from local_stack.runtime import LambdaRuntime
from tests.conftest import FAKE_AWS_ENV, api_event
from tests.integration.conftest import REFS, Api
from tests.integration.helpers import PHYSICAL, placed, set_stock, stock_of
from tests.integration.stepfunctions import Workflows, workflow_refs, workflows

COINS = {"items": [{"sku": "coins-500", "quantity": 1}]}
SM = "RefundStateMachine"


@pytest.fixture
def runtime(aws: None) -> LambdaRuntime:
    return LambdaRuntime(REFS | workflow_refs(), base_env=FAKE_AWS_ENV)


@pytest.fixture
def stripe(runtime: LambdaRuntime) -> Iterator[FakeStripe]:
    fake = FakeStripe(webhook_url=None)
    server = FakeStripeServer(fake)
    server.start()
    runtime.set_ref("StripeApiBase", server.url)
    yield fake
    server.stop()


@pytest.fixture
def flows(runtime: LambdaRuntime, stripe: FakeStripe) -> Iterator[Workflows]:
    from orders.dal.workflow import sfn_client

    sfn_client.cache_clear()
    with workflows(runtime, REFS | workflow_refs()) as deployed:
        yield deployed
    sfn_client.cache_clear()


def start_payment(api: Api, order_id: str) -> str:
    response = api(api_event("payments_start_payment", path_params={"order_id": order_id}, body={"provider": "stripe"}))
    assert response.status == 201, response.body
    return str(response.body["payment_reference"])


def confirm(stripe: FakeStripe, intent: str) -> None:
    with stripe._lock:
        stripe.confirm_intent(intent, {"payment_method": "pm_card_visa"})


def deliver(api: Api, stripe: FakeStripe, event_type: str) -> Any:
    event = next(e for e in reversed(stripe.events) if e["type"] == event_type)
    payload = json.dumps(event)
    headers = {"Stripe-Signature": sign(payload, LOCAL_WEBHOOK_SECRET)}
    response = api(api_event("payment_webhook_stripe_webhook", raw_body=payload, headers=headers))
    assert response.status == 200, response.body
    return response.body


def cancel(api: Api, order_id: str) -> Any:
    return api(api_event("orders_cancel_order", path_params={"order_id": order_id}))


def timeline(api: Api, order_id: str) -> list[dict[str, Any]]:
    return api(api_event("orders_get_timeline", path_params={"order_id": order_id})).body["items"]  # type: ignore[no-any-return]


def ask_refund(api: Api, order_id: str) -> Any:
    return api(
        api_event("refund_request_request_refund", path_params={"order_id": order_id}, body={"reason": "charged"})
    )


def test_cancelling_an_order_cancels_its_payment_intent(api: Api, stripe: FakeStripe) -> None:
    # Given an order whose Stripe payment was started
    order = placed(api, COINS)
    intent = start_payment(api, order["order_id"])
    # When the owner cancels it
    response = cancel(api, order["order_id"])
    # Then the intent is cancelled at Stripe: confirming it later charges nothing
    assert (response.status, response.body["status"]) == (200, "CANCELLED")
    assert stripe.intents[intent]["status"] == "canceled"
    with stripe._lock, pytest.raises(Exception, match="canceled"):
        stripe.confirm_intent(intent, {"payment_method": "pm_card_visa"})
    assert stripe.charges == {}
    # And the timeline says the payment was cancelled
    assert timeline(api, order["order_id"])[-1]["details"] == {"payment": "cancelled"}
    # And a refund request says plainly there is nothing to refund
    refused = ask_refund(api, order["order_id"])
    assert (refused.status, refused.body["code"]) == (409, "ORDER_NOT_REFUNDABLE")
    assert "before any payment was taken" in refused.body["message"]


def test_money_that_arrives_for_a_cancelled_order_is_refunded_automatically(
    api: Api, stripe: FakeStripe, flows: Workflows, ddb: Any
) -> None:
    set_stock(ddb, "mug-classic", 1)
    # Given a physical order paid at Stripe whose confirmation has not reached us yet
    order = placed(api, PHYSICAL)
    oid = order["order_id"]
    intent = start_payment(api, oid)
    confirm(stripe, intent)
    # When the owner cancels it: Stripe cannot cancel a succeeded intent, the cancellation goes ahead
    response = cancel(api, oid)
    assert (response.status, response.body["status"]) == (200, "CANCELLED")
    assert timeline(api, oid)[-1]["details"] == {"payment": "taken"}
    # And before the money is confirmed, a refund request says it will be refunded automatically
    early = ask_refund(api, oid)
    assert (early.status, early.body["code"]) == (409, "AUTOMATIC_REFUND_PENDING")
    # When the provider's confirmation arrives
    deliver(api, stripe, "payment_intent.succeeded")
    # Then the money is refunded at Stripe in full, automatically, and recorded
    refund_id = next(e for e in timeline(api, oid) if e["type"] == "PAID_WHILE_CANCELLED")["details"]["refund_id"]
    assert flows.wait(flows.execution_arn(SM, refund_id))["status"] == "SUCCEEDED"
    charge = next(iter(stripe.charges.values()))
    assert charge["amount_refunded"] == order["total"]
    types = [e["type"] for e in timeline(api, oid)]
    assert types[-3:] == ["PAID_WHILE_CANCELLED", "REFUND_APPROVED", "REFUND_SUCCEEDED"]
    final = api(api_event("orders_get_order", path_params={"order_id": oid})).body
    assert final["status"] == "CANCELLED"
    assert final["refunded_total"] == 0  # the order's own payment never was; the stray one is refunded
    # And a refund request is answered with that automatic refund, not a 409
    answer = ask_refund(api, oid)
    assert answer.status == 202, answer.body
    assert (answer.body["refund_id"], answer.body["status"], answer.body["automatic"]) == (
        refund_id,
        "SUCCEEDED",
        True,
    )
    # And the same confirmation delivered again refunds nothing more
    deliver(api, stripe, "payment_intent.succeeded")
    assert charge["amount_refunded"] == order["total"]
    assert len(stripe.refunds) == 1
    # And the unit went back to stock once (the money goes back, so the goods may be sold again)
    assert stock_of(ddb, "mug-classic") == 1


def test_expiry_cancels_a_started_intent_and_spares_an_order_whose_payment_went_through(
    api: Api, runtime: LambdaRuntime, stripe: FakeStripe
) -> None:
    from orders.adapters.payments import payment_gateway
    from orders.logic import scheduler
    from orders.models.common import utcnow

    unpaid, paying = placed(api, COINS), placed(api, COINS)
    unpaid_intent = start_payment(api, unpaid["order_id"])
    confirm(stripe, start_payment(api, paying["order_id"]))
    # When the expiry job runs past both orders' expiry
    runtime.activate("SchedulerFunction")
    result = scheduler.expire_unpaid(now=utcnow() + timedelta(days=1), gateway=payment_gateway())
    # Then the unpaid one is cancelled with its intent; the paid one waits for its confirmation
    assert result.changed == 1
    assert stripe.intents[unpaid_intent]["status"] == "canceled"
    status = {
        o["order_id"]: api(api_event("orders_get_order", path_params={"order_id": o["order_id"]})).body["status"]
        for o in (unpaid, paying)
    }
    assert status == {unpaid["order_id"]: "CANCELLED", paying["order_id"]: "PENDING_PAYMENT"}
    deliver(api, stripe, "payment_intent.succeeded")
    paid = api(api_event("orders_get_order", path_params={"order_id": paying["order_id"]})).body
    assert paid["status"] == "PAID"
