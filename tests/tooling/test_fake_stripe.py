"""The fake payment provider speaks Stripe: the stripe SDK works against it, and its webhooks verify."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import stripe

from local_stack.fake_stripe import LOCAL_API_KEY, LOCAL_WEBHOOK_SECRET, FakeStripe, FakeStripeServer


@dataclass
class Receiver:
    """A webhook endpoint that answers the status codes it is told to, in order, then 200."""

    statuses: list[int] = field(default_factory=list)
    received: list[tuple[bytes, str]] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.received.append((body, self.headers["Stripe-Signature"]))
            self.send_response(state.statuses.pop(0) if state.statuses else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/webhooks/stripe"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def fake(receiver: Receiver) -> Iterator[FakeStripeServer]:
    server = FakeStripeServer(FakeStripe(webhook_url=receiver.url))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def client(fake: FakeStripeServer) -> stripe.StripeClient:
    return stripe.StripeClient(LOCAL_API_KEY, base_addresses={"api": fake.url}, max_network_retries=0)


def test_sdk_creates_and_confirms_an_intent_and_the_webhook_verifies(
    client: stripe.StripeClient, fake: FakeStripeServer, receiver: Receiver
) -> None:
    # Given an intent created by the SDK for an order
    intent = client.v1.payment_intents.create(
        params={"amount": 3399, "currency": "usd", "metadata": {"order_id": "ord_1"}}
    )
    assert intent.status == "requires_payment_method"
    assert intent.metadata["order_id"] == "ord_1"
    # When it is confirmed with Stripe's succeeding test card
    confirmed = client.v1.payment_intents.confirm(intent.id, params={"payment_method": "pm_card_visa"})
    # Then it succeeded, reads back the same, and a signed payment_intent.succeeded reached the webhook
    assert confirmed.status == "succeeded"
    assert client.v1.payment_intents.retrieve(intent.id).amount_received == 3399
    fake.fake.wait_idle()
    payload, signature = receiver.received[-1]
    event = stripe.Webhook.construct_event(payload, signature, LOCAL_WEBHOOK_SECRET)
    assert event.type == "payment_intent.succeeded"
    assert event.data.object["metadata"]["order_id"] == "ord_1"
    assert event.data.object["amount"] == 3399


def test_a_wrong_secret_does_not_verify(
    client: stripe.StripeClient, fake: FakeStripeServer, receiver: Receiver
) -> None:
    # Given a delivered event
    intent = client.v1.payment_intents.create(params={"amount": 100, "currency": "usd"})
    client.v1.payment_intents.confirm(intent.id, params={"payment_method": "pm_card_visa"})
    fake.fake.wait_idle()
    payload, signature = receiver.received[-1]
    # Then another secret rejects it
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload, signature, "whsec_other")


def test_idempotency_key_returns_the_same_intent(client: stripe.StripeClient) -> None:
    # Given two creates with one Idempotency-Key
    params: Any = {"amount": 500, "currency": "usd", "metadata": {"order_id": "ord_2"}}
    first = client.v1.payment_intents.create(params=params, options={"idempotency_key": "order-ord_2"})
    second = client.v1.payment_intents.create(params=params, options={"idempotency_key": "order-ord_2"})
    # Then they are one intent
    assert first.id == second.id


def test_declined_card_is_a_card_error_and_a_payment_failed_event(
    client: stripe.StripeClient, fake: FakeStripeServer, receiver: Receiver
) -> None:
    # Given an intent
    intent = client.v1.payment_intents.create(params={"amount": 700, "currency": "usd", "metadata": {"order_id": "o3"}})
    # When it is confirmed with Stripe's declining test card
    with pytest.raises(stripe.CardError) as declined:
        client.v1.payment_intents.confirm(intent.id, params={"payment_method": "pm_card_chargeDeclined"})
    # Then the SDK raises Stripe's card error, and payment_intent.payment_failed is delivered
    assert declined.value.code == "card_declined"
    fake.fake.wait_idle()
    event = stripe.Webhook.construct_event(*receiver.received[-1], LOCAL_WEBHOOK_SECRET)
    assert event.type == "payment_intent.payment_failed"
    assert event.data.object["last_payment_error"]["code"] == "card_declined"


def test_refund_sends_refund_created_with_its_metadata_and_a_charge_without_refunds(
    client: stripe.StripeClient, fake: FakeStripeServer, receiver: Receiver
) -> None:
    # Given a paid intent
    intent = client.v1.payment_intents.create(
        params={"amount": 1000, "currency": "usd", "metadata": {"order_id": "o4"}}
    )
    client.v1.payment_intents.confirm(intent.id, params={"payment_method": "pm_card_visa"})
    # When part of it is refunded, twice with one Idempotency-Key
    params: Any = {"payment_intent": intent.id, "amount": 400, "metadata": {"refund_id": "rf_1"}}
    refund = client.v1.refunds.create(params=params, options={"idempotency_key": "rf_1"})
    again = client.v1.refunds.create(params=params, options={"idempotency_key": "rf_1"})
    # Then one refund succeeded: refund.created carries it with its metadata and PaymentIntent, and
    # charge.refunded (as Stripe since 2022-11-15) only the cumulative amount, no refunds list
    assert refund.status == "succeeded"
    assert again.id == refund.id
    fake.fake.wait_idle()
    events = [stripe.Webhook.construct_event(*r, LOCAL_WEBHOOK_SECRET) for r in receiver.received]
    created = [e.data.object for e in events if e.type == "refund.created"]
    assert [(r["id"], r["payment_intent"], r["metadata"]["refund_id"]) for r in created] == [
        (refund.id, intent.id, "rf_1")
    ]
    (charge,) = [e.data.object for e in events if e.type == "charge.refunded"]
    assert charge["amount_refunded"] == 400
    assert charge["metadata"]["order_id"] == "o4"
    assert "refunds" not in charge
    # And refunding more than is left is Stripe's invalid_request_error
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 601})


def test_bad_key_and_unknown_intent_are_stripe_errors(fake: FakeStripeServer, client: stripe.StripeClient) -> None:
    # Given a client with the wrong key
    wrong = stripe.StripeClient("sk_test_wrong", base_addresses={"api": fake.url}, max_network_retries=0)
    # Then Stripe's errors come back, typed by the SDK
    with pytest.raises(stripe.AuthenticationError):
        wrong.v1.payment_intents.create(params={"amount": 1, "currency": "usd"})
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.payment_intents.retrieve("pi_missing")
    assert missing.value.code == "resource_missing"


def test_delivery_retries_until_the_endpoint_accepts(
    client: stripe.StripeClient, fake: FakeStripeServer, receiver: Receiver
) -> None:
    # Given a webhook endpoint failing twice
    receiver.statuses = [500, 503]
    # When an event is sent
    intent = client.v1.payment_intents.create(params={"amount": 100, "currency": "usd"})
    client.v1.payment_intents.confirm(intent.id, params={"payment_method": "pm_card_visa"})
    fake.fake.wait_idle()
    # Then it was delivered on the third attempt, each attempt freshly signed and verifiable
    delivery = fake.fake.deliveries[-1]
    assert (delivery.status, delivery.attempts) == (200, 3)
    assert len(receiver.received) == 3
    for payload, signature in receiver.received:
        assert stripe.Webhook.construct_event(payload, signature, LOCAL_WEBHOOK_SECRET).id == delivery.event["id"]
