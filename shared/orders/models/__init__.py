"""pydantic models: the one schema source for requests, responses, the domain and DB items."""

from orders.models.catalog import Product, ProductKind
from orders.models.common import Money, UtcDateTime, format_ts, utcnow
from orders.models.order import (
    Order,
    OrderLine,
    OrderStatus,
    Shipment,
    ShippingAddress,
    TimelineEvent,
)

__all__ = [
    "Money",
    "Order",
    "OrderLine",
    "OrderStatus",
    "Product",
    "ProductKind",
    "Shipment",
    "ShippingAddress",
    "TimelineEvent",
    "UtcDateTime",
    "format_ts",
    "utcnow",
]
