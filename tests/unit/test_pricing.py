"""Server-side pricing: prices come from the catalog; anything unsellable is refused."""

from __future__ import annotations

import pytest

from orders import errors
from orders.logic.pricing import price_order
from orders.models.api import OrderLineRequest
from orders.models.catalog import Product, ProductKind
from orders.models.order import ShippingAddress

FEES = {"USD": 500, "EUR": 450}
ADDRESS = ShippingAddress(name="Ada", line1="1 Road", city="London", postal_code="N1", country="GB")


def product(
    sku: str, kind: ProductKind = ProductKind.VIRTUAL, price: int = 499, currency: str = "USD", active: bool = True
) -> Product:
    return Product(sku=sku, name=sku.title(), kind=kind, price=price, currency=currency, active=active)


CATALOG = {
    p.sku: p
    for p in [
        product("coins"),
        product("sub", ProductKind.SUBSCRIPTION, 999),
        product("shirt", ProductKind.PHYSICAL, 2500),
        product("euro-coins", currency="EUR"),
        product("retired", active=False),
    ]
}


def lines(*pairs: tuple[str, int]) -> list[OrderLineRequest]:
    return [OrderLineRequest(sku=sku, quantity=qty) for sku, qty in pairs]


def test_virtual_order_is_priced_from_the_catalog_without_shipping() -> None:
    # Given a virtual and a subscription line / When priced
    priced = price_order(lines(("coins", 3), ("sub", 1)), CATALOG, None, FEES)
    # Then line totals, subtotal and total come from catalog prices, and nothing ships
    assert [(line.sku, line.unit_price, line.line_total) for line in priced.lines] == [
        ("coins", 499, 1497),
        ("sub", 999, 999),
    ]
    assert (priced.subtotal, priced.shipping_fee, priced.total, priced.currency) == (2496, 0, 2496, "USD")


def test_physical_goods_add_the_shipping_fee_of_the_currency() -> None:
    priced = price_order(lines(("shirt", 2), ("coins", 1)), CATALOG, ADDRESS, FEES)
    assert (priced.subtotal, priced.shipping_fee, priced.total) == (5499, 500, 5999)
    assert priced.shipping_address == ADDRESS


def test_address_sent_with_virtual_goods_only_is_not_kept() -> None:
    priced = price_order(lines(("coins", 1)), CATALOG, ADDRESS, FEES)
    assert priced.shipping_address is None


@pytest.mark.parametrize(
    ("requested", "address", "error"),
    [
        (lines(("nope", 1)), None, errors.UnknownSku),
        (lines(("retired", 1)), None, errors.ProductInactive),
        (lines(("coins", 1), ("euro-coins", 1)), None, errors.CurrencyMismatch),
        (lines(("shirt", 1)), None, errors.AddressRequired),
        (lines(("coins", 1), ("coins", 2)), None, errors.DuplicateSku),
    ],
    ids=["unknown-sku", "inactive", "mixed-currencies", "physical-without-address", "duplicate-sku"],
)
def test_unsellable_orders_are_refused(
    requested: list[OrderLineRequest], address: ShippingAddress | None, error: type[errors.DomainError]
) -> None:
    with pytest.raises(error):
        price_order(requested, CATALOG, address, FEES)


def test_physical_goods_in_a_currency_without_shipping_are_refused() -> None:
    catalog = {"yen-shirt": product("yen-shirt", ProductKind.PHYSICAL, 3000, "JPY")}
    with pytest.raises(errors.ShippingUnavailable):
        price_order(lines(("yen-shirt", 1)), catalog, ADDRESS, FEES)


def test_unknown_skus_are_all_named() -> None:
    with pytest.raises(errors.UnknownSku) as refused:
        price_order(lines(("a", 1), ("coins", 1), ("b", 1)), CATALOG, None, FEES)
    assert refused.value.details == {"skus": ["a", "b"]}
