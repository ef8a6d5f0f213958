"""The shopping cart: edit quantities, read it priced at the catalog's current prices."""

from __future__ import annotations

from datetime import timedelta

from orders.config import get_config
from orders.dal.repos import cart_repository, catalog_repository
from orders.errors import CartTooManyLines, ProductNotForSale, ProductNotFound
from orders.models.api import CartLineOut, CartOut
from orders.models.cart import Cart, CartLine
from orders.models.catalog import Product
from orders.models.common import utcnow


def _idle() -> timedelta:
    return timedelta(hours=get_config().cart_idle_hours)


def view(cart: Cart) -> CartOut:
    """Each line at the current price, with whether it can be bought now (one BatchGetItem)."""
    products = catalog_repository().get_many(line.sku for line in cart.lines)
    lines = []
    for line in cart.lines:
        product = products.get(line.sku)
        if product is None:
            continue  # deleted from the catalog: nothing to show or buy
        lines.append(_line(product, line.quantity))
    expires = cart.updated_at + _idle() if cart.updated_at else None
    return CartOut(lines=lines, version=cart.version, expires_at=expires)


def _line(product: Product, quantity: int) -> CartLineOut:
    return CartLineOut(
        sku=product.sku,
        name=product.name,
        merchant_id=product.merchant_id,
        quantity=quantity,
        unit_price=product.price,
        currency=product.currency,
        line_total=product.price * quantity,
        available=product.active and (product.stock is None or product.stock >= quantity),
        stock_left=product.stock,
    )


def get_cart(user_id: str) -> CartOut:
    return view(cart_repository().get(user_id))


def set_quantity(user_id: str, sku: str, quantity: int) -> CartOut:
    """Set a line's quantity (0 removes it). A product must exist and be on sale to be added."""
    repository = cart_repository()
    cart = repository.get(user_id)
    others = [line for line in cart.lines if line.sku != sku]
    if quantity:
        product = catalog_repository().get(sku)
        if product is None:
            raise ProductNotFound(sku=sku)
        if not product.active:
            raise ProductNotForSale(sku=sku)
        if len(others) >= get_config().cart_max_lines:
            raise CartTooManyLines(max_lines=get_config().cart_max_lines)
        new = CartLine(sku=sku, quantity=quantity, unit_price=product.price)
        if len(others) < len(cart.lines):
            lines = [new if line.sku == sku else line for line in cart.lines]
        else:
            lines = [*others, new]
    else:
        lines = others
    saved = repository.save(cart.model_copy(update={"lines": lines}), cart.version, utcnow(), _idle())
    return view(saved)


def clear(user_id: str) -> None:
    cart_repository().delete(user_id)
