"""The provider refund gateway against the fake Stripe: what the refund workflow's execute step calls."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime

import boto3
import pytest
import stripe
from moto import mock_aws

from local_stack.fake_stripe import LOCAL_API_KEY, FakeStripe, FakeStripeServer
from orders import cache
from orders.adapters.refund_gateway import PermanentProviderError, ProviderRefundGateway, TransientProviderError
from orders.models.catalog import ProductKind
from orders.models.order import Order, OrderLine, OrderStatus
from orders.models.refund import Refund, RefundStatus

NOW = datetime(2026, 11, 22, tzinfo=UTC)


@pytest.fixture
def fake() -> Iterator[FakeStripe]:
    provider = FakeStripe(webhook_url="http://127.0.0.1:9/unused")
    server = FakeStripeServer(provider)
    server.start()
    with pytest.MonkeyPatch.context() as env, mock_aws():
        # As deployed: the key is a Secrets Manager secret the function has the ARN of.
        arn = boto3.client("secretsmanager").create_secret(Name="stripe-api-key", SecretString=LOCAL_API_KEY)["ARN"]
        env.setenv("STRIPE_API_KEY_SECRET_ARN", arn)
        env.setenv("STRIPE_API_BASE", server.url)
        cache.reset()
        yield provider
    cache.reset()
    server.stop()


def paid_intent(fake: FakeStripe, amount: int) -> str:
    """A PaymentIntent paid through the fake, as the app's SDK would pay it."""
    base = os.environ["STRIPE_API_BASE"]
    client = stripe.StripeClient(LOCAL_API_KEY, base_addresses={"api": base}, max_network_retries=0)
    intent = client.v1.payment_intents.create(params={"amount": amount, "currency": "usd"})
    client.v1.payment_intents.confirm(intent.id, params={"payment_method": "pm_card_visa"})
    return str(intent.id)


def order(provider: str | None, reference: str | None, total: int = 3000) -> Order:
    line = OrderLine(sku="mug", name="Mug", kind=ProductKind.PHYSICAL, unit_price=total, quantity=1, line_total=total)
    return Order(
        order_id="ord_1",
        user_id="u1",
        status=OrderStatus.DELIVERED,
        items=[line],
        currency="USD",
        subtotal=total,
        shipping_fee=0,
        total=total,
        created_at=NOW,
        updated_at=NOW,
        payment_provider=provider,
        payment_reference=reference,
    )


def refund(amount: int, refund_id: str = "rf_1") -> Refund:
    return Refund(
        refund_id=refund_id,
        order_id="ord_1",
        user_id="u1",
        amount=amount,
        currency="USD",
        status=RefundStatus.APPROVED,
        reason="broken",
        requested_at=NOW,
    )


def test_a_stripe_payment_is_refunded_once_per_refund_id(fake: FakeStripe) -> None:
    # Given an order paid with Stripe
    paid = order("stripe", paid_intent(fake, 3000))
    gateway = ProviderRefundGateway()
    # When the workflow executes a refund, and its retry executes it again
    first = gateway.refund(order=paid, refund=refund(1200), idempotency_key="rf_1")
    again = gateway.refund(order=paid, refund=refund(1200), idempotency_key="rf_1")
    # Then Stripe refunded once, with our refund id in the metadata (so its webhook is known as ours)
    assert first == again
    assert first.status == "succeeded"
    assert len(fake.refunds) == 1
    stored = fake.refunds[first.provider_refund_id]
    assert (stored["amount"], stored["metadata"]["refund_id"]) == (1200, "rf_1")


def test_a_refund_stripe_refuses_fails_permanently(fake: FakeStripe) -> None:
    paid = order("stripe", paid_intent(fake, 3000))
    with pytest.raises(PermanentProviderError, match="HTTP 400"):
        ProviderRefundGateway().refund(order=paid, refund=refund(5000), idempotency_key="rf_2")


def test_an_unset_api_key_is_a_transient_error(fake: FakeStripe) -> None:
    # Given a deployed stack whose Stripe key secret was created empty and never set
    paid = order("stripe", paid_intent(fake, 3000))
    boto3.client("secretsmanager").create_secret(Name="stripe-api-key-empty")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("STRIPE_API_KEY_SECRET_ARN", "stripe-api-key-empty")
        cache.reset()
        # When the refund workflow executes a refund, Then the step is retried (not failed for good)
        with pytest.raises(TransientProviderError):
            ProviderRefundGateway().refund(order=paid, refund=refund(1000), idempotency_key="rf_unset")


def test_an_unreachable_provider_is_a_transient_error(fake: FakeStripe, monkeypatch: pytest.MonkeyPatch) -> None:
    paid = order("stripe", paid_intent(fake, 3000))
    monkeypatch.setenv("STRIPE_API_BASE", "http://127.0.0.1:9")  # nothing listens there
    cache.reset()
    with pytest.raises(TransientProviderError):
        ProviderRefundGateway().refund(order=paid, refund=refund(1000), idempotency_key="rf_3")


@pytest.mark.parametrize(("provider", "reference"), [("apple", "2000000012345678"), (None, None)])
def test_store_purchases_and_unpaid_records_cannot_be_refunded_from_the_server(
    fake: FakeStripe, provider: str | None, reference: str | None
) -> None:
    with pytest.raises(PermanentProviderError, match="cannot refund"):
        ProviderRefundGateway().refund(order=order(provider, reference), refund=refund(100), idempotency_key="rf_4")
    assert fake.refunds == {}
