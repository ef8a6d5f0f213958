"""Checkout: the cart becomes one order per merchant, all written (with every stock reservation) or none."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from orders import errors
from orders.dal.repos import cart_repository, catalog_repository, orders_repository
from orders.logic import idempotency, inventory
from orders.logic.ordering import new_order
from orders.models.api import CheckoutRequest, OrderLineRequest
from orders.models.common import utcnow
from orders.models.order import Order
from orders.observability import logger, metrics

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from orders.logic.ports import IdempotencyStore


class Checkout(BaseModel):
    user_id: str
    idempotency_key: str
    request: CheckoutRequest


class CheckoutResult(BaseModel):
    orders: list[Order]


def checkout(command: Checkout, lambda_context: LambdaContext | None = None, *, store: IdempotencyStore) -> list[Order]:
    """Idempotent on (user, Idempotency-Key) in ``store`` as POST /orders is: a retry returns the same orders."""
    # 'checkout' in the key: the same Idempotency-Key on POST /orders is another request.
    result: CheckoutResult = idempotency.call(
        _checkout,
        command,
        lambda_context,
        store,
        event_key_jmespath="[user_id, idempotency_key, 'checkout']",
        output=CheckoutResult,
    )
    return result.orders


def _checkout(*, command: Checkout) -> CheckoutResult:
    carts = cart_repository()
    cart = carts.get(command.user_id)
    if not cart.lines:
        raise errors.CartEmpty()
    if command.request.cart_version is not None and command.request.cart_version != cart.version:
        raise errors.CartChanged(version=cart.version, expected=command.request.cart_version)
    # Prices and stock are read again now, and compared with what the cart showed.
    products = catalog_repository().get_many(line.sku for line in cart.lines)
    differences: list[dict[str, Any]] = []
    for line in cart.lines:
        product = products.get(line.sku)
        if product is None or not product.active:
            differences.append({"sku": line.sku, "available": False})
        elif line.unit_price is not None and product.price != line.unit_price:
            differences.append({"sku": line.sku, "unit_price_was": line.unit_price, "unit_price_now": product.price})
        elif product.stock is not None and product.stock < line.quantity:
            differences.append({"sku": line.sku, "available": False, "stock_left": product.stock})
    if differences:
        raise errors.CartPricesChanged(differences=differences)
    by_merchant: dict[str, list[OrderLineRequest]] = {}
    for line in cart.lines:
        by_merchant.setdefault(products[line.sku].merchant_id, []).append(
            OrderLineRequest(sku=line.sku, quantity=line.quantity)
        )
    now = utcnow()
    created = []
    reserved: dict[str, int] = {}
    for merchant, lines in sorted(by_merchant.items()):
        order, event, taken = new_order(
            command.user_id, lines, command.request.shipping_address, products, now, merchant_id=merchant
        )
        created.append((order, event))
        reserved.update(taken)  # a sku is in one line of one merchant only
    skus = sorted(reserved)
    extra = [
        *inventory.reservation_items({sku: reserved[sku] for sku in skus}),
        carts.deletion(cart.user_id, cart.version),
    ]
    first_extra = 2 * len(created)
    try:
        # Every order, its first event, every reservation and the cart's removal: all or nothing.
        orders_repository().create_many(created, extra)
    except errors.ConcurrentModification as exc:
        short = [skus[i - first_extra] for i in exc.failed_items if first_extra <= i < first_extra + len(skus)]
        if short:
            metrics.add_metric(name="OutOfStock", unit="Count", value=1)
            raise errors.OutOfStock(f"Not enough stock left for {', '.join(short)}.", skus=short) from exc
        if first_extra + len(skus) in exc.failed_items:
            raise errors.CartChanged(version=cart.version) from exc
        raise
    orders = [order for order, _ in created]
    logger.info("cart checked out", orders=[order.order_id for order in orders])
    metrics.add_metric(name="OrdersCreated", unit="Count", value=len(orders))
    return CheckoutResult(orders=orders)
