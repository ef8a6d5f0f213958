"""The payment logic through its ports (orders.logic.ports), with fakes passed in: no AWS, no provider."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from orders import errors
from orders.logic.payments import parse_signed, stop_payment
from orders.logic.ports import CreatedPayment
from orders.models.order import Order, OrderStatus
from orders.models.payment import PaymentEvent, PaymentEventKind, Provider
from orders.observability import metrics

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


@dataclass
class FakeGateway:
    """Answers cancel_payment with the status the provider would report; records what it was asked."""

    status_after_cancel: str = "canceled"
    cancelled: list[str] = field(default_factory=list)

    def create_payment(self, order_id: str, amount: int, currency: str, *, idempotency_key: str) -> CreatedPayment:
        raise AssertionError("not expected here")

    def cancel_payment(self, reference: str) -> CreatedPayment:
        self.cancelled.append(reference)
        return CreatedPayment(reference, None, self.status_after_cancel, 500, "USD")


@dataclass
class FakeWebhooks:
    """parse() raises ``error`` (or answers ``event``)."""

    error: BaseException | None = None
    event: PaymentEvent | None = None

    def parse(self, provider: Provider, headers: Mapping[str, str], body: bytes) -> PaymentEvent:
        if self.error is not None:
            raise self.error
        assert self.event is not None
        return self.event

    def acknowledge(self, event: PaymentEvent) -> None:
        raise AssertionError("not expected here")

    def answer_consumption_request(self, event: PaymentEvent, *, delivered: bool) -> None:
        raise AssertionError("not expected here")


def order(**extra: Any) -> Order:
    return Order(
        order_id="ord_1",
        user_id="u",
        status=OrderStatus.PENDING_PAYMENT,
        items=[],
        currency="USD",
        subtotal=500,
        shipping_fee=0,
        total=500,
        created_at=T0,
        updated_at=T0,
        **extra,
    )


@pytest.fixture
def emitted() -> Iterator[None]:
    metrics.clear_metrics()
    yield
    metrics.clear_metrics()


def counted(name: str) -> Any:
    return metrics.metric_set.get(name, {}).get("Value")


@pytest.mark.parametrize(("after", "meaning"), [("canceled", "cancelled"), ("succeeded", "taken")])
def test_a_started_stripe_payment_is_cancelled_through_the_gateway(after: str, meaning: str) -> None:
    # Given an order whose Stripe payment was started, and a provider that answers the cancellation with ``after``
    gateway = FakeGateway(status_after_cancel=after)
    # When its payment is stopped
    result = stop_payment(order(payment_provider="stripe", payment_reference="pi_1"), gateway)
    # Then the provider was asked to cancel that payment, and its answer decides what the cancellation means
    assert gateway.cancelled == ["pi_1"]
    assert result == meaning


@pytest.mark.parametrize("started", [{}, {"payment_provider": "apple", "payment_reference": "tx_1"}])
def test_an_order_without_a_started_stripe_payment_asks_the_provider_nothing(started: dict[str, str]) -> None:
    gateway = FakeGateway()
    assert stop_payment(order(**started), gateway) == "none"
    assert gateway.cancelled == []


def test_a_refused_signature_is_counted_and_raised(emitted: None) -> None:
    # Given webhooks whose signature check refuses the delivery
    webhooks = FakeWebhooks(error=errors.WebhookSignatureInvalid())
    # When it is parsed, Then the refusal propagates and is counted (the alarm's metric)
    with pytest.raises(errors.WebhookSignatureInvalid):
        parse_signed(Provider.STRIPE, {}, b"{}", webhooks=webhooks)
    assert counted("WebhookSignatureFailures") == [1.0]


def test_a_body_nested_too_deep_is_invalid_json_not_a_500() -> None:
    webhooks = FakeWebhooks(error=RecursionError("maximum recursion depth exceeded"))
    with pytest.raises(errors.InvalidJson):
        parse_signed(Provider.APPLE, {}, b"[" * 5000, webhooks=webhooks)


def test_an_authentic_event_is_returned_as_parsed(emitted: None) -> None:
    event = PaymentEvent(provider=Provider.GOOGLE, event_id="e1", event_type="x", kind=PaymentEventKind.OTHER)
    assert parse_signed(Provider.GOOGLE, {}, b"{}", webhooks=FakeWebhooks(event=event)) is event
    assert counted("WebhookSignatureFailures") is None
