"""create-order: ``POST /orders``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header

from orders.adapters.idempotency import persistence_layer
from orders.cache import per_environment
from orders.http import CurrentCaller, build_resolver, lambda_entry
from orders.logic.ordering import PlaceOrder, place_order
from orders.models.api import CreateOrderRequest, OrderOut

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer

router = Router()


@per_environment
def idempotency_store() -> BasePersistenceLayer:
    """Where this function records Idempotency-Keys (its one adapter, wired here; made on the first keyed request)."""
    return persistence_layer()


IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="Client-chosen key: a retry with the same key and body returns the same order.",
        examples=["9d0c4c1e-5a43-4b8e-9a51-3f1f2a0e7c11"],
    ),
]


@router.post(
    "/orders",
    summary="Place an order",
    description='`{"items": [{"sku", "quantity"}], "shipping_address"?}` → 201; prices come from the catalog',
    tags=["orders"],
    status_code=201,
)
def create_order(body: CreateOrderRequest, caller: CurrentCaller, idempotency_key: IdempotencyKey = None) -> OrderOut:
    command = PlaceOrder(user_id=caller.user_id, idempotency_key=idempotency_key, request=body)
    return OrderOut.of(place_order(command, router.lambda_context, store=idempotency_store))


app = build_resolver(router)
lambda_handler = lambda_entry(app)
