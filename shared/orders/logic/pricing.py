"""Server-side pricing of an order from catalog products. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from orders import errors
from orders.models.api import OrderLineRequest
from orders.models.catalog import Product, ProductKind
from orders.models.common import Money
from orders.models.order import OrderLine, ShippingAddress


@dataclass(frozen=True)
class PricedOrder:
    lines: list[OrderLine]
    currency: str
    subtotal: int
    shipping_fee: int
    total: int
    shipping_address: ShippingAddress | None


def price_order(
    requested: Sequence[OrderLineRequest],
    products: Mapping[str, Product],
    shipping_address: ShippingAddress | None,
    shipping_fees: Mapping[str, int],
) -> PricedOrder:
    """Price ``requested`` lines from ``products``; raises a domain error for anything unsellable."""
    skus = [line.sku for line in requested]
    duplicates = sorted({sku for sku in skus if skus.count(sku) > 1})
    if duplicates:
        raise errors.DuplicateSku(skus=duplicates)
    unknown = [sku for sku in skus if sku not in products]
    if unknown:
        raise errors.UnknownSku(skus=unknown)
    inactive = [sku for sku in skus if not products[sku].active]
    if inactive:
        raise errors.ProductInactive(skus=inactive)
    currencies = sorted({products[sku].currency for sku in skus})
    if len(currencies) > 1:
        raise errors.CurrencyMismatch(currencies=currencies)
    currency = currencies[0]

    lines: list[OrderLine] = []
    subtotal = Money.zero(currency)
    for line in requested:
        product = products[line.sku]
        line_total = product.unit_price.times(line.quantity)
        subtotal += line_total
        lines.append(
            OrderLine(
                sku=product.sku,
                name=product.name,
                kind=product.kind,
                unit_price=product.price,
                quantity=line.quantity,
                line_total=line_total.amount,
            )
        )

    physical = any(product.kind is ProductKind.PHYSICAL for product in (products[s] for s in skus))
    shipping = Money.zero(currency)
    if physical:
        if shipping_address is None:
            raise errors.AddressRequired()
        if currency not in shipping_fees:
            raise errors.ShippingUnavailable(currency=currency)
        shipping = Money(amount=shipping_fees[currency], currency=currency)
    total = subtotal + shipping
    return PricedOrder(
        lines=lines,
        currency=currency,
        subtotal=subtotal.amount,
        shipping_fee=shipping.amount,
        total=total.amount,
        # Virtual goods ship nowhere: an address sent with them is not kept.
        shipping_address=shipping_address if physical else None,
    )
