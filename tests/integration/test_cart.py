"""The shopping cart: per user, priced at the catalog's current prices, limited, and removed when idle."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.conftest import api_event
from tests.integration.conftest import Api
from tests.integration.helpers import set_stock

OPS: dict[str, Any] = {"user": "ops-1", "groups": ("ops",)}


def put(api: Api, sku: str, quantity: Any, user: str = "user-0001") -> Any:
    return api(api_event("cart_put_item", path_params={"sku": sku}, body={"quantity": quantity}, user=user))


def get(api: Api, user: str = "user-0001") -> Any:
    return api(api_event("cart_get_cart", user=user))


def test_lines_show_current_price_availability_and_total(api: Api, ddb: Any) -> None:
    # Given a cart with two mugs and a t-shirt, and two mugs left
    set_stock(ddb, "mug-classic", 2)
    put(api, "mug-classic", 2)
    put(api, "tshirt-logo-m", 1)
    # When the mug's price changes and one more is wanted than is on hand
    api(api_event("catalog_admin_update_product", path_params={"sku": "mug-classic"}, body={"price": 1500}, **OPS))
    cart = put(api, "mug-classic", 3).body
    # Then the cart shows the new price, the line total and that the quantity cannot be bought now
    mug = next(line for line in cart["lines"] if line["sku"] == "mug-classic")
    assert (mug["unit_price"], mug["quantity"], mug["line_total"]) == (1500, 3, 4500)
    assert (mug["available"], mug["stock_left"], mug["merchant_id"]) == (False, 2, "north-loom")
    assert get(api).body == cart
    assert [line["sku"] for line in cart["lines"]] == ["mug-classic", "tshirt-logo-m"]


def test_zero_removes_a_line_and_delete_empties_the_cart(api: Api) -> None:
    put(api, "coins-500", 2)
    put(api, "mug-classic", 1)
    assert [line["sku"] for line in put(api, "coins-500", 0).body["lines"]] == ["mug-classic"]
    assert api(api_event("cart_delete_cart")).status == 204
    assert get(api).body["lines"] == []


def test_each_user_has_their_own_cart(api: Api) -> None:
    put(api, "coins-500", 2, user="user-a")
    assert get(api, user="user-b").body["lines"] == []
    assert get(api, user="user-a").body["lines"][0]["quantity"] == 2


def test_the_cart_expires_when_idle(api: Api, ddb: Any) -> None:
    # Given a cart just changed
    body = put(api, "coins-500", 1).body
    item = ddb.get_item(TableName="OrdersTable", Key={"PK": {"S": "USER#user-0001"}, "SK": {"S": "CART"}})["Item"]
    # Then DynamoDB's TTL removes it after the configured idle time (default 720 h), which the cart shows
    assert 719 * 3600 < int(item["ttl"]["N"]) - time.time() <= 720 * 3600
    assert body["expires_at"] is not None
    ttl = ddb.describe_time_to_live(TableName="OrdersTable")["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "ttl"}


@pytest.mark.parametrize(
    ("sku", "quantity", "status", "code"),
    [
        ("mug-classic", 1000, 422, "VALIDATION_ERROR"),
        ("mug-classic", -1, 422, "VALIDATION_ERROR"),
        ("mug-classic", 1.5, 422, "VALIDATION_ERROR"),
        ("no-such-sku", 1, 404, "PRODUCT_NOT_FOUND"),
        ("starter-pack-2019", 1, 422, "PRODUCT_NOT_FOR_SALE"),
    ],
)
def test_bad_lines_are_refused(api: Api, sku: str, quantity: Any, status: int, code: str) -> None:
    response = put(api, sku, quantity)
    assert (response.status, response.body["code"]) == (status, code)
    assert get(api).body["lines"] == []


def test_a_cart_holds_a_limited_number_of_lines(api: Api) -> None:
    # Given a limit of two lines
    api.runtime.override_environment("CartFunction", CART_MAX_LINES="2")
    put(api, "coins-500", 1)
    put(api, "mug-classic", 1)
    # When a third product is added
    third = put(api, "tshirt-logo-m", 1)
    # Then it is refused, while changing a line already there still works
    assert (third.status, third.body["code"]) == (422, "CART_TOO_MANY_LINES")
    assert put(api, "mug-classic", 5).status == 200


def test_a_cart_needs_a_signed_in_user(api: Api) -> None:
    assert api(api_event("cart_get_cart", user=None)).status == 401
