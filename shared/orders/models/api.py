"""Request and response bodies of the public HTTP API (the OpenAPI document is built from these)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from orders.models.catalog import Product, ProductKind, Sku
from orders.models.common import CurrencyCode, MinorUnits, UtcDateTime
from orders.models.order import Order, OrderStatus, Shipment, ShippingAddress, TimelineEvent

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
    expires_at: UtcDateTime | None = Field(default=None, description="An unpaid order is cancelled after this time.")
    shipment: Shipment | None = None
    delivered_at: UtcDateTime | None = None

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
