"""shipping: ops ship and deliver physical orders; the owner confirms receipt."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path

from orders.http import CurrentCaller, build_resolver, lambda_entry, requires_role
from orders.logic import shipping
from orders.models.api import OrderOut, ShipmentRequest

router = Router()

OrderId = Annotated[str, Path(min_length=1, max_length=64)]


@router.post("/orders/<order_id>/shipments", summary="Ship a physical order (ops)", tags=["fulfilment"])
@requires_role("ops")
def ship(order_id: OrderId, body: ShipmentRequest, caller: CurrentCaller) -> OrderOut:
    return OrderOut.of(shipping.ship(order_id, body, actor=f"ops:{caller.user_id}"))


@router.post("/orders/<order_id>/delivery", summary="Record delivery (ops)", tags=["fulfilment"])
@requires_role("ops")
def deliver(order_id: OrderId, caller: CurrentCaller) -> OrderOut:
    return OrderOut.of(shipping.deliver(order_id, actor=f"ops:{caller.user_id}"))


@router.post("/orders/<order_id>/confirm-receipt", summary="Confirm receipt (owner)", tags=["fulfilment"])
def confirm_receipt(order_id: OrderId, caller: CurrentCaller) -> OrderOut:
    return OrderOut.of(shipping.confirm_receipt(order_id, user_id=caller.user_id))


app = build_resolver(router)
lambda_handler = lambda_entry(app)
