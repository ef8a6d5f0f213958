"""Physical orders after payment: shipped (carrier + tracking), delivered, completed."""

from __future__ import annotations

from orders import lifecycle
from orders.config import get_config
from orders.dal.orders import OrderPage
from orders.dal.repos import orders_repository
from orders.logic import transitions
from orders.models.api import ShipmentRequest
from orders.models.common import utcnow
from orders.models.order import Order, OrderStatus, Shipment
from orders.observability import metrics


def shipping_queue(status: OrderStatus, *, limit: int | None, cursor: str | None) -> OrderPage:
    """Physical orders waiting for ops: to ship (PENDING_SHIPMENT) or to deliver (SHIPPED), oldest first."""
    return orders_repository().shipping_queue(status, limit=limit or get_config().default_page_size, after=cursor)


def ship(order_id: str, request: ShipmentRequest, *, actor: str, merchant_id: str | None = None) -> Order:
    """Ship a physical order; ``merchant_id``: only that merchant's order (another's is ORDER_NOT_FOUND)."""
    shipment = Shipment(carrier=request.carrier, tracking_number=request.tracking_number, shipped_at=utcnow())
    order = transitions.change(
        orders_repository(),
        order_id,
        lifecycle.Action.SHIP,
        actor=actor,
        details={"carrier": shipment.carrier, "tracking_number": shipment.tracking_number},
        updates={"shipment": shipment},
        merchant=merchant_id,
    )
    metrics.add_metric(name="OrdersShipped", unit="Count", value=1)
    return order


def deliver(order_id: str, *, actor: str) -> Order:
    order = transitions.change(
        orders_repository(), order_id, lifecycle.Action.DELIVER, actor=actor, updates={"delivered_at": utcnow()}
    )
    metrics.add_metric(name="OrdersDelivered", unit="Count", value=1)
    return order


def confirm_receipt(order_id: str, *, user_id: str) -> Order:
    order = transitions.change(
        orders_repository(), order_id, lifecycle.Action.CONFIRM_RECEIPT, actor=f"user:{user_id}", owner=user_id
    )
    metrics.add_metric(name="OrdersCompleted", unit="Count", value=1)
    return order
