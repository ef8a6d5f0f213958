"""cart: the caller's own cart (read it at current prices, set a line, empty it) and its checkout."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header, Path

from orders.adapters.idempotency import persistence_layer
from orders.cache import per_environment
from orders.http import CurrentCaller, build_resolver, lambda_entry
from orders.logic import cart
from orders.logic.checkout import Checkout, checkout
from orders.models.api import CartItemRequest, CartOut, CheckoutOut, CheckoutRequest, OrderOut

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer

router = Router()


@per_environment
def idempotency_store() -> BasePersistenceLayer:
    """Where this function records Idempotency-Keys (its one adapter, wired here; made on the first keyed request)."""
    return persistence_layer()


@router.get(
    "/cart",
    summary="My cart, at current prices",
    description="Each line at the current price, `available` (on sale, enough stock), `line_total`, the cart "
    "`version` and when it expires if left idle (`CART_IDLE_HOURS`, DynamoDB TTL)",
    tags=["cart"],
)
def get_cart(caller: CurrentCaller) -> CartOut:
    return cart.get_cart(caller.user_id)


@router.put(
    "/cart/items/<sku>",
    summary="Set how many of a product my cart holds (0 removes it)",
    description='`{"quantity"}`, 0..999; 404 `PRODUCT_NOT_FOUND`, 422 `PRODUCT_NOT_FOR_SALE`, `CART_TOO_MANY_LINES` '
    "(`CART_MAX_LINES`)",
    tags=["cart"],
)
def put_item(
    sku: Annotated[
        str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", examples=["mug-classic"])
    ],
    body: CartItemRequest,
    caller: CurrentCaller,
) -> CartOut:
    return cart.set_quantity(caller.user_id, sku, body.quantity)


@router.delete("/cart", summary="Empty my cart", description="204", tags=["cart"])
def delete_cart(caller: CurrentCaller) -> Response[None]:
    cart.clear(caller.user_id)
    return Response(status_code=204)


IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="Client-chosen key: a retry with the same key and body returns the same orders.",
        examples=["checkout-0001"],
    ),
]


@router.post(
    "/cart/checkout",
    summary="Check my cart out: one order per merchant",
    description='`Idempotency-Key` header, `{"shipping_address"?, "cart_version"?}` → 201 `{"orders"}`: one order '
    "per merchant (each with its own shipping fee), prices read again; 409 `CART_PRICES_CHANGED` with `differences` "
    "when a price or availability changed since the line was set (set it again to accept), 409 `CART_CHANGED` when "
    "the cart is not `cart_version`, 409 `OUT_OF_STOCK`; every order, reservation and the cart's removal in one "
    "transaction (at most `CART_MAX_LINES` = 30 lines so it stays within 100 items); a retry returns the same orders",
    tags=["cart"],
    status_code=201,
)
def post_checkout(body: CheckoutRequest, caller: CurrentCaller, idempotency_key: IdempotencyKey) -> CheckoutOut:
    command = Checkout(user_id=caller.user_id, idempotency_key=idempotency_key, request=body)
    placed = checkout(command, router.lambda_context, store=idempotency_store)
    return CheckoutOut(orders=[OrderOut.of(order) for order in placed])


app = build_resolver(router)
lambda_handler = lambda_entry(app)
