"""Catalog administration (ops): create and change products; orders keep the price they were placed at."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import api_event
from tests.integration.conftest import Api
from tests.integration.helpers import placed, stock_of

OPS: dict[str, Any] = {"user": "ops-1", "groups": ("ops",)}
POSTER = {"sku": "poster-a2", "name": "Poster", "kind": "physical", "price": 1500, "currency": "USD", "stock": 10}


def create(api: Api, body: Any = POSTER, **who: Any) -> Any:
    return api(api_event("catalog_admin_create_product", body=body, **(who or OPS)))


def update(api: Api, sku: str, body: Any, **who: Any) -> Any:
    return api(api_event("catalog_admin_update_product", path_params={"sku": sku}, body=body, **(who or OPS)))


def test_ops_create_a_product_that_is_then_for_sale(api: Api) -> None:
    response = create(api)
    assert response.status == 201
    assert (response.body["stock"], response.body["active"]) == (10, True)
    public = api(api_event("catalog_get_product", path_params={"sku": "poster-a2"})).body
    assert public["price"] == 1500 and "stock" not in public
    again = create(api)
    assert (again.status, again.body["code"]) == (409, "PRODUCT_EXISTS")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({**POSTER, "price": -1}, "VALIDATION_ERROR"),
        ({**POSTER, "price": 1.5}, "VALIDATION_ERROR"),
        ({**POSTER, "currency": "usd"}, "VALIDATION_ERROR"),
        ({**POSTER, "kind": "service"}, "VALIDATION_ERROR"),
        ({**POSTER, "stock": -1}, "VALIDATION_ERROR"),
        ({**POSTER, "sku": "bad sku!"}, "VALIDATION_ERROR"),
        ({**POSTER, "surprise": 1}, "VALIDATION_ERROR"),
        ({**POSTER, "kind": "virtual"}, "INVALID_PRODUCT"),
        ({**POSTER, "subscription_days": 30}, "INVALID_PRODUCT"),
    ],
)
def test_bad_products_are_refused(api: Api, ddb: Any, body: Any, code: str) -> None:
    response = create(api, body)
    assert (response.status, response.body["code"]) == (422, code)
    assert "Item" not in ddb.get_item(TableName="CatalogTable", Key={"sku": {"S": body["sku"]}})


def test_a_price_change_leaves_placed_orders_alone_and_keeps_stock(api: Api, ddb: Any) -> None:
    # Given a placed order for a mug at 1200 and stock being counted
    update(api, "mug-classic", {"stock": 5})
    order = placed(api)
    # When ops change the price
    changed = update(api, "mug-classic", {"price": 1900, "description": "Bigger"})
    assert changed.status == 200
    assert (changed.body["price"], changed.body["description"], changed.body["stock"]) == (1900, "Bigger", 4)
    # Then the order keeps its price, and a new order pays the new one
    got = api(api_event("orders_get_order", path_params={"order_id": order["order_id"]})).body
    assert got["items"][0]["unit_price"] == 1200
    assert placed(api)["items"][0]["unit_price"] == 1900
    assert stock_of(ddb, "mug-classic") == 3


def test_deactivating_and_unlimiting(api: Api, ddb: Any) -> None:
    update(api, "mug-classic", {"stock": 5})
    assert update(api, "mug-classic", {"stock": None}).body["stock"] is None
    assert stock_of(ddb, "mug-classic") is None
    assert update(api, "mug-classic", {"active": False}).body["active"] is False


@pytest.mark.parametrize(
    ("sku", "body", "status", "code"),
    [
        ("no-such", {"price": 1}, 404, "PRODUCT_NOT_FOUND"),
        ("coins-500", {"stock": 3}, 422, "INVALID_PRODUCT"),
        ("coins-500", {"price": None}, 422, "INVALID_PRODUCT"),
        ("coins-500", {"price": -5}, 422, "VALIDATION_ERROR"),
        ("coins-500", {"kind": "physical", "currency": "XXXX"}, 422, "VALIDATION_ERROR"),
    ],
)
def test_bad_updates_are_refused(api: Api, sku: str, body: Any, status: int, code: str) -> None:
    response = update(api, sku, body)
    assert (response.status, response.body["code"]) == (status, code)


@pytest.mark.parametrize("groups", [(), ("support",)])
def test_catalog_admin_is_for_ops_only(api: Api, groups: tuple[str, ...]) -> None:
    for response in (
        create(api, user="u", groups=groups),
        update(api, "mug-classic", {"price": 1}, user="u", groups=groups),
    ):
        assert (response.status, response.body["code"]) == (403, "FORBIDDEN")
