"""Stock of physical goods: reserved with the order, released when it is cancelled or expires.

Rules
- A product with ``stock`` None is unlimited (virtual goods, subscriptions): nothing is reserved.
- Reservation is a conditional decrement (``stock >= qty``) in the same transaction that creates
  the order: the order exists iff its stock was taken, and stock never goes below zero.
- Release puts back what the order recorded in ``reserved``, in the same transaction as the
  CANCEL / EXPIRE status change; a product that stopped counting stock since is skipped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orders.dal.repos import catalog_repository
from orders.models.catalog import Product
from orders.models.order import Order, OrderLine

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef


def to_reserve(lines: list[OrderLine], products: dict[str, Product]) -> dict[str, int]:
    """sku → quantity to take from stock, for the lines whose product counts stock (sorted by sku)."""
    return {
        line.sku: line.quantity for line in sorted(lines, key=lambda ln: ln.sku) if products[line.sku].stock is not None
    }


def reservation_items(reserved: dict[str, int]) -> list[TransactWriteItemTypeDef]:
    catalog = catalog_repository()
    return [catalog.reservation(sku, quantity) for sku, quantity in reserved.items()]


def release_items(before: Order, after: Order) -> list[TransactWriteItemTypeDef]:
    """Transaction items giving back the stock ``before`` reserved (for transitions.change's ``extra``)."""
    if not before.reserved:
        return []
    catalog = catalog_repository()
    still_counted = {sku for sku, product in catalog.get_many(before.reserved).items() if product.stock is not None}
    return [catalog.release(sku, qty) for sku, qty in sorted(before.reserved.items()) if sku in still_counted]
