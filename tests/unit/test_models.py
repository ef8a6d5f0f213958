"""Models: money stays integral and single-currency; requests reject what is not an order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from orders.errors import CurrencyMismatch
from orders.models.api import CreateOrderRequest, OrderLineRequest
from orders.models.common import Money, format_ts
from orders.models.order import ShippingAddress


def test_money_adds_within_one_currency() -> None:
    assert Money(amount=250, currency="USD") + Money(amount=5, currency="USD") == Money(amount=255, currency="USD")
    assert Money(amount=3, currency="EUR").times(4).amount == 12


def test_money_refuses_to_mix_currencies() -> None:
    with pytest.raises(CurrencyMismatch):
        Money(amount=1, currency="USD") + Money(amount=1, currency="EUR")


@pytest.mark.parametrize("amount", [1.5, "100", -1, True])
def test_money_is_a_non_negative_integer_never_a_float_or_string(amount: object) -> None:
    with pytest.raises(ValidationError):
        Money(amount=amount, currency="USD")


@pytest.mark.parametrize("currency", ["usd", "US", "DOLLAR", ""])
def test_currency_is_an_iso_4217_code(currency: str) -> None:
    with pytest.raises(ValidationError):
        Money(amount=1, currency=currency)


@pytest.mark.parametrize(
    "body",
    [
        {"items": []},
        {"items": [{"sku": "coins-500", "quantity": 0}]},
        {"items": [{"sku": "coins-500", "quantity": -3}]},
        {"items": [{"sku": "coins-500", "quantity": 10**9}]},
        {"items": [{"sku": "coins-500", "quantity": 1.5}]},
        {"items": [{"sku": "coins-500", "quantity": "2"}]},
        {"items": [{"sku": "", "quantity": 1}]},
        {"items": [{"sku": "x" * 65, "quantity": 1}]},
        {"items": [{"quantity": 1}]},
        {"items": [{"sku": f"s{i}", "quantity": 1} for i in range(51)]},
        {},
    ],
    ids=[
        "no-items",
        "zero",
        "negative",
        "huge",
        "float",
        "string",
        "empty-sku",
        "long-sku",
        "no-sku",
        "too-many-lines",
        "empty-object",
    ],
)
def test_create_order_request_rejects_what_is_not_an_order(body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        CreateOrderRequest.model_validate(body)


def test_client_prices_are_ignored_by_the_request_model() -> None:
    request = CreateOrderRequest.model_validate({"items": [{"sku": "coins-500", "quantity": 1, "unit_price": 1}]})
    assert request.items == [OrderLineRequest(sku="coins-500", quantity=1)]


def test_address_requires_its_fields_and_an_iso_country() -> None:
    with pytest.raises(ValidationError):
        ShippingAddress.model_validate({"name": "A", "line1": "1", "city": "X", "postal_code": "1", "country": "UK1"})


def test_timestamps_sort_as_strings_like_the_times_they_hold() -> None:
    base = datetime(2026, 1, 1, tzinfo=UTC)
    stamps = [format_ts(base + timedelta(microseconds=n)) for n in (0, 9, 10, 999_999, 1_000_000)]
    assert stamps == sorted(stamps)
    assert format_ts(datetime(2026, 1, 1, 9, tzinfo=timezone(timedelta(hours=9)))) == "2026-01-01T00:00:00.000000Z"
