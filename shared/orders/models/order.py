"""Order domain model: what an order is, independent of HTTP and of DynamoDB."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import ConfigDict, Field

from orders.models.base import Model
from orders.models.catalog import ProductKind, Sku
from orders.models.common import CurrencyCode, MinorUnits, UtcDateTime


class OrderStatus(StrEnum):
    PENDING_PAYMENT = "PENDING_PAYMENT"
    PAYMENT_FAILED = "PAYMENT_FAILED"
    PAID = "PAID"
    PENDING_SHIPMENT = "PENDING_SHIPMENT"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"
    REFUNDED = "REFUNDED"


Text = Annotated[str, Field(min_length=1, max_length=200)]


class ShippingAddress(Model):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    name: Text
    line1: Text
    line2: Annotated[str, Field(max_length=200)] | None = None
    city: Text
    region: Annotated[str, Field(max_length=100)] | None = None
    postal_code: Annotated[str, Field(min_length=1, max_length=20)]
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")]
    phone: Annotated[str, Field(max_length=32)] | None = None


class Shipment(Model):
    """Who carries a physical order and how to track it."""

    model_config = ConfigDict(frozen=True)

    carrier: str
    tracking_number: str
    shipped_at: UtcDateTime


class OrderLine(Model):
    """One priced line. Name and price are copied from the catalog when the order is placed."""

    model_config = ConfigDict(frozen=True)

    sku: Sku
    name: str
    kind: ProductKind
    unit_price: MinorUnits
    quantity: Annotated[int, Field(ge=1)]
    line_total: MinorUnits


class Order(Model):
    model_config = ConfigDict(frozen=True)

    order_id: str
    user_id: str
    status: OrderStatus
    items: list[OrderLine]
    currency: CurrencyCode
    subtotal: MinorUnits
    shipping_fee: MinorUnits
    total: MinorUnits
    refunded_total: MinorUnits = 0
    # The refund in flight, if any, and the amount it holds back from what is still refundable.
    # Written with the order's version check in the refund's own transaction, so two concurrent
    # refund requests cannot both pass "one pending at a time" and "within what is refundable".
    refund_pending_id: str | None = None
    refund_pending_amount: MinorUnits = 0
    shipping_address: ShippingAddress | None = None
    # The merchant selling every line (a cart checkout makes one order per merchant); None before merchants.
    merchant_id: str | None = None
    created_at: UtcDateTime
    updated_at: UtcDateTime
    # Set when a provider confirms the payment (the refund workflow refunds against it).
    payment_provider: str | None = None
    payment_reference: str | None = None
    # Subscriptions: paid up to here; each renewal moves it forward, never back.
    subscription_expires_at: UtcDateTime | None = None
    # Optimistic-concurrency counter: every change writes version + 1 on condition version.
    version: Annotated[int, Field(ge=1)] = 1
    # An unpaid order is cancelled (and its stock released) after this time.
    expires_at: UtcDateTime | None = None
    # Stock reserved at creation, by sku (released on cancel / expiry). Internal, not in OrderOut.
    reserved: dict[str, int] = Field(default_factory=dict)
    shipment: Shipment | None = None
    delivered_at: UtcDateTime | None = None
    # When the payment was confirmed (stage durations: paid → shipped).
    paid_at: UtcDateTime | None = None
    # Physical goods of a refunded order that never shipped went back into stock (docs/refunds.md).
    stock_returned: bool = False
    # Cancelled while its payment had already gone through at the provider: the money is refunded
    # automatically when the provider's confirmation arrives (docs/payments.md, "Cancelling").
    refund_on_cancel: bool = False
    # Money received after the order was cancelled, by payment reference (each is refunded
    # automatically, by an automatic refund), and how much of it has been refunded so far.
    stray_charges: dict[str, int] = Field(default_factory=dict)
    stray_refunded: MinorUnits = 0

    @property
    def refundable(self) -> int:
        """What can still be refunded: the total minus what was refunded and what is reserved."""
        return self.total - self.refunded_total - self.refund_pending_amount

    @property
    def has_physical_goods(self) -> bool:
        return any(line.kind is ProductKind.PHYSICAL for line in self.items)


class TimelineEvent(Model):
    """One entry of an order's timeline, written in the same transaction as the change."""

    model_config = ConfigDict(frozen=True)

    at: UtcDateTime
    type: str
    from_status: OrderStatus | None = None
    to_status: OrderStatus | None = None
    actor: str
    version: int
    details: dict[str, Any] = Field(default_factory=dict)
