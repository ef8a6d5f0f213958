"""Request and response bodies of the public HTTP API (the OpenAPI document is built from these)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from orders.models.catalog import Product, ProductKind, Sku
from orders.models.common import CurrencyCode, MinorUnits, UtcDateTime
from orders.models.order import Order, OrderStatus, ShippingAddress, TimelineEvent
from orders.models.refund import Decision, Refund, RefundStatus

MAX_ORDER_LINES = 50
MAX_LINE_QUANTITY = 999


# --- requests ------------------------------------------------------------------------------
class OrderLineRequest(BaseModel):
    sku: Sku
    quantity: Annotated[StrictInt, Field(ge=1, le=MAX_LINE_QUANTITY)]


class CreateOrderRequest(BaseModel):
    """Only skus and quantities: names and prices always come from the catalog."""

    items: Annotated[list[OrderLineRequest], Field(min_length=1, max_length=MAX_ORDER_LINES)]
    shipping_address: ShippingAddress | None = None


# --- responses -----------------------------------------------------------------------------
class ErrorBody(BaseModel):
    code: str = Field(examples=["ORDER_NOT_FOUND"])
    message: str
    details: list[Any] | None = None


class ProductOut(BaseModel):
    sku: str
    name: str
    description: str
    kind: ProductKind
    price: MinorUnits
    currency: CurrencyCode
    active: bool

    @classmethod
    def of(cls, product: Product) -> ProductOut:
        return cls.model_validate(product.model_dump())


class ProductList(BaseModel):
    items: list[ProductOut]


class OrderLineOut(BaseModel):
    sku: str
    name: str
    kind: ProductKind
    unit_price: MinorUnits
    quantity: int
    line_total: MinorUnits


class OrderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    order_id: str
    user_id: str
    status: OrderStatus
    items: list[OrderLineOut]
    currency: CurrencyCode
    subtotal: MinorUnits
    shipping_fee: MinorUnits
    total: MinorUnits
    refunded_total: MinorUnits
    shipping_address: ShippingAddress | None = None
    created_at: UtcDateTime
    updated_at: UtcDateTime

    @classmethod
    def of(cls, order: Order) -> OrderOut:
        return cls.model_validate(order.model_dump())


class OrderList(BaseModel):
    items: list[OrderOut]
    next_cursor: str | None


class TimelineEventOut(BaseModel):
    at: UtcDateTime
    type: str
    from_status: OrderStatus | None
    to_status: OrderStatus | None
    actor: str
    details: dict[str, Any]

    @classmethod
    def of(cls, event: TimelineEvent) -> TimelineEventOut:
        return cls.model_validate(event.model_dump())


class TimelineOut(BaseModel):
    items: list[TimelineEventOut]


# --- refunds -------------------------------------------------------------------------------
class RefundRequest(BaseModel):
    amount: StrictInt | None = Field(
        default=None, description="Minor units; default: everything still refundable", examples=[1500]
    )
    reason: Annotated[str, Field(min_length=1, max_length=1000)]


class DecisionRequest(BaseModel):
    decision: Decision
    note: Annotated[str, Field(max_length=1000)] = ""


class RefundOut(BaseModel):
    refund_id: str
    order_id: str
    user_id: str
    amount: MinorUnits
    currency: CurrencyCode
    status: RefundStatus
    reason: str
    requested_at: UtcDateTime
    review_due_at: UtcDateTime | None
    decided_by: str | None
    decided_at: UtcDateTime | None
    decision_note: str | None
    failure_cause: str | None
    provider_refund_id: str | None

    @classmethod
    def of(cls, refund: Refund) -> RefundOut:
        # Explicit fields: the task token stays in the backend.
        return cls.model_validate(refund.model_dump(exclude={"task_token", "version"}))


class RefundList(BaseModel):
    items: list[RefundOut]
    next_cursor: str | None = None
