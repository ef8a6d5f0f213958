"""POST /orders/{id}/payments against the local fake Stripe, through the stripe SDK."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from local_stack.fake_stripe import FakeStripe, FakeStripeServer
from local_stack.runtime import LambdaRuntime
from orders.dal.repos import orders_repository
from orders.lifecycle import Action
from orders.logic import transitions
from tests.conftest import api_event
from tests.integration.conftest import Api

VIRTUAL = {"items": [{"sku": "coins-500", "quantity": 2}]}


@pytest.fixture
def stripe_fake(runtime: LambdaRuntime) -> Iterator[FakeStripe]:
    # The fake's webhooks go nowhere here: these tests are about starting a payment.
    fake = FakeStripe(webhook_url="http://127.0.0.1:9/unused")
    server = FakeStripeServer(fake)
    server.start()
    runtime.set_ref("StripeApiBase", server.url)  # as the local stack's parameter override does
    yield fake
    server.stop()


def order(api: Api, user: str = "user-0001") -> dict[str, Any]:
    event = api_event("create_order", body=VIRTUAL, user=user)
    event["headers"].pop("Idempotency-Key")
    event["multiValueHeaders"].pop("Idempotency-Key")
    response = api(event)
    assert response.status == 201
    return response.body  # type: ignore[no-any-return]


def start(api: Api, order_id: str, user: str = "user-0001", provider: str = "stripe") -> Any:
    return api(
        api_event("payments_start_payment", user=user, path_params={"order_id": order_id}, body={"provider": provider})
    )


def test_starting_a_stripe_payment_creates_one_intent_for_the_order_total(api: Api, stripe_fake: FakeStripe) -> None:
    # Given a pending order
    placed = order(api)
    # When the client starts paying it, twice (a retry)
    first = start(api, placed["order_id"])
    again = start(api, placed["order_id"])
    # Then it gets a PaymentIntent for the order's total, with what the app's SDK needs
    assert first.status == 201, first.body
    assert first.body["payment_reference"].startswith("pi_")
    assert first.body["client_secret"]
    assert (first.body["amount"], first.body["currency"]) == (placed["total"], "USD")
    # And the retry reuses the same intent (idempotency key), which carries the order id
    assert again.body["payment_reference"] == first.body["payment_reference"]
    intents = list(stripe_fake.intents.values())
    assert len(intents) == 1
    assert intents[0]["metadata"] == {"order_id": placed["order_id"]}
    assert intents[0]["amount"] == placed["total"]


def test_in_app_purchases_get_the_account_token_instead(api: Api, stripe_fake: FakeStripe) -> None:
    placed = order(api)
    response = start(api, placed["order_id"], provider="apple")
    assert response.status == 201
    assert response.body["account_token"]
    assert response.body["payment_reference"] is None
    assert stripe_fake.intents == {}


def test_a_paid_order_cannot_be_paid_again(api: Api, runtime: LambdaRuntime, stripe_fake: FakeStripe) -> None:
    placed = order(api)
    runtime.activate("PaymentsFunction")
    transitions.change(orders_repository(), placed["order_id"], Action.PAYMENT_SUCCEEDED, actor="test")
    response = start(api, placed["order_id"])
    assert (response.status, response.body["code"]) == (409, "ORDER_NOT_PAYABLE")
    assert stripe_fake.intents == {}


def test_another_users_order_is_not_found(api: Api, stripe_fake: FakeStripe) -> None:
    placed = order(api)
    response = start(api, placed["order_id"], user="intruder")
    assert (response.status, response.body["code"]) == (404, "ORDER_NOT_FOUND")
    assert stripe_fake.intents == {}
