"""shipping: ops see what waits, ship and deliver physical orders; the owner confirms receipt."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from orders.http import CurrentCaller, build_resolver, lambda_entry, owner_or, requires_role
from orders.logic import shipping
from orders.models.api import OrderList, OrderOut, ShipmentRequest
from orders.models.order import OrderStatus
from orders.params import OrderId, PageCursor, PageLimit
from orders.roles import Role

router = Router()


@router.get("/shipments", summary="Orders waiting to be shipped or delivered, oldest first (ops)", tags=["fulfilment"])
@requires_role(Role.OPS)
def shipping_queue(
    caller: CurrentCaller,
    status: Annotated[
        Literal["PENDING_SHIPMENT", "SHIPPED"], Query(examples=["PENDING_SHIPMENT"])
    ] = "PENDING_SHIPMENT",
    limit: PageLimit = None,
    cursor: PageCursor = None,
) -> OrderList:
    page = shipping.shipping_queue(OrderStatus(status), limit=limit, cursor=cursor)
    return OrderList(items=[OrderOut.of(order) for order in page.items], next_cursor=page.next_cursor)


@router.post(
    "/orders/<order_id>/shipments",
    summary="Ship a physical order (ops; merchant: own orders)",
    description="Carrier + tracking number; another shop's order is 404 `ORDER_NOT_FOUND` to a merchant",
    tags=["fulfilment"],
)
@requires_role(Role.OPS, Role.MERCHANT)
def ship(order_id: OrderId, body: ShipmentRequest, caller: CurrentCaller) -> OrderOut:
    # Ops ship any order; a merchant only their own (another merchant's order reads as not found).
    merchant = caller.merchant_scope(Role.OPS)
    actor = f"merchant:{merchant}:{caller.user_id}" if merchant else f"ops:{caller.user_id}"
    return OrderOut.of(shipping.ship(order_id, body, actor=actor, merchant_id=merchant))


@router.post("/orders/<order_id>/delivery", summary="Record delivery (ops)", tags=["fulfilment"])
@requires_role(Role.OPS)
def deliver(order_id: OrderId, caller: CurrentCaller) -> OrderOut:
    return OrderOut.of(shipping.deliver(order_id, actor=f"ops:{caller.user_id}"))


@router.post(
    "/orders/<order_id>/confirm-receipt",
    summary="Confirm receipt (owner)",
    description="Delivered → completed",
    tags=["fulfilment"],
)
@owner_or()
def confirm_receipt(order_id: OrderId, caller: CurrentCaller) -> OrderOut:
    return OrderOut.of(shipping.confirm_receipt(order_id, user_id=caller.user_id))


app = build_resolver(router)
lambda_handler = lambda_entry(app)
