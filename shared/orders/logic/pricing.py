"""Server-side pricing of an order from catalog products. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from orders import errors
from orders.models.api import OrderLineRequest
from orders.models.catalog import Product, ProductKind
from orders.models.common import MAX_MINOR_UNITS, Money
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

    physical = any(product.kind is ProductKind.PHYSICAL for product in (products[s] for s in skus))
    shipping = Money.zero(currency)
    if physical:
        if shipping_address is None:
            raise errors.AddressRequired()
        if currency not in shipping_fees:
            raise errors.ShippingUnavailable(currency=currency)
        shipping = Money(amount=shipping_fees[currency], currency=currency)
    # Plain integers first: a total over the money limit (or of 0: never payable) is refused with a
    # stable code before any amount is made a Money (which would refuse it as a validation error).
    amounts = [products[line.sku].price * line.quantity for line in requested]
    if not 1 <= sum(amounts) + shipping.amount <= MAX_MINOR_UNITS:
        raise errors.OrderTotalOutOfRange(max_total=MAX_MINOR_UNITS)

    lines: list[OrderLine] = []
    subtotal = Money.zero(currency)
    for line, amount in zip(requested, amounts, strict=True):
        product = products[line.sku]
        subtotal += Money(amount=amount, currency=currency)
        lines.append(
            OrderLine(
                sku=product.sku,
                name=product.name,
                kind=product.kind,
                unit_price=product.price,
                quantity=line.quantity,
                line_total=amount,
            )
        )
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
