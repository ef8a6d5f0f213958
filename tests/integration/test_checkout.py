"""Checkout: one order per merchant, all or none, prices checked again, idempotent."""

from __future__ import annotations

import threading
from typing import Any

from tests.conftest import api_event
from tests.integration.conftest import Api
from tests.integration.helpers import ADDRESS, set_stock, stock_of

OPS: dict[str, Any] = {"user": "ops-1", "groups": ("ops",)}


def put(api: Api, sku: str, quantity: int, user: str = "user-0001") -> Any:
    response = api(api_event("cart_put_item", path_params={"sku": sku}, body={"quantity": quantity}, user=user))
    assert response.status == 200, response.body
    return response.body


def checkout(api: Api, key: str = "k-1", user: str = "user-0001", body: Any = None) -> Any:
    body = {"shipping_address": ADDRESS} if body is None else body
    return api(api_event("cart_post_checkout", body=body, user=user, headers={"Idempotency-Key": key}))


def cart_lines(api: Api, user: str = "user-0001") -> list[Any]:
    return api(api_event("cart_get_cart", user=user)).body["lines"]  # type: ignore[no-any-return]


def test_a_cart_from_two_merchants_becomes_two_orders_each_with_its_shipping(api: Api, ddb: Any) -> None:
    # Given a cart with goods of two merchants (coins: pixel-forge; mug, t-shirt: north-loom)
    set_stock(ddb, "mug-classic", 5)
    put(api, "coins-500", 2)
    put(api, "mug-classic", 2)
    put(api, "tshirt-logo-m", 1)
    # When the user checks out
    response = checkout(api)
    # Then there is one order per merchant, only the physical one paying shipping, stock taken, cart empty
    assert response.status == 201, response.body
    orders = {order["merchant_id"]: order for order in response.body["orders"]}
    assert set(orders) == {"pixel-forge", "north-loom"}
    assert [line["sku"] for line in orders["pixel-forge"]["items"]] == ["coins-500"]
    assert orders["pixel-forge"]["shipping_fee"] == 0
    north = orders["north-loom"]
    assert north["subtotal"] == 2 * 1200 + 2500 and north["shipping_fee"] > 0
    assert north["total"] == north["subtotal"] + north["shipping_fee"]
    assert stock_of(ddb, "mug-classic") == 3
    assert cart_lines(api) == []
    for order in response.body["orders"]:
        got = api(api_event("orders_get_order", path_params={"order_id": order["order_id"]}))
        assert got.status == 200 and got.body["status"] == "PENDING_PAYMENT"


def test_a_retried_checkout_returns_the_same_orders(api: Api) -> None:
    put(api, "coins-500", 1)
    put(api, "mug-classic", 1)
    first = checkout(api, key="same")
    again = checkout(api, key="same")
    assert (first.status, again.status) == (201, 201)
    assert [o["order_id"] for o in again.body["orders"]] == [o["order_id"] for o in first.body["orders"]]
    listed = api(api_event("orders_list_orders")).body["items"]
    assert len(listed) == 2


def test_a_price_change_since_the_cart_was_shown_is_refused_with_the_difference(api: Api, ddb: Any) -> None:
    # Given a mug in the cart at 1200
    put(api, "mug-classic", 1)
    put(api, "coins-500", 1)
    # When its price changes before checkout
    api(api_event("catalog_admin_update_product", path_params={"sku": "mug-classic"}, body={"price": 1500}, **OPS))
    response = checkout(api)
    # Then nothing is ordered, the cart stays, and the 409 says what changed
    assert (response.status, response.body["code"]) == (409, "CART_PRICES_CHANGED")
    assert response.body["details"][0]["differences"] == [
        {"sku": "mug-classic", "unit_price_was": 1200, "unit_price_now": 1500}
    ]
    assert len(cart_lines(api)) == 2
    assert api(api_event("orders_list_orders")).body["items"] == []
    # And once the user has seen the new price (sets the line again), checkout charges it
    put(api, "mug-classic", 1)
    accepted = checkout(api, key="k-2")
    assert accepted.status == 201
    assert 1500 in [o["subtotal"] for o in accepted.body["orders"]]


def test_a_cart_changed_since_it_was_shown_is_refused(api: Api) -> None:
    shown = put(api, "coins-500", 1)["version"]
    put(api, "coins-500", 3)
    response = checkout(api, body={"cart_version": shown})
    assert (response.status, response.body["code"]) == (409, "CART_CHANGED")


def test_an_empty_cart_cannot_be_checked_out(api: Api) -> None:
    response = checkout(api)
    assert (response.status, response.body["code"]) == (422, "CART_EMPTY")


def test_concurrent_checkouts_of_the_last_unit_leave_exactly_one_winner(api: Api, ddb: Any) -> None:
    # Given one mug left, in two users' carts next to a coin pack (another merchant)
    set_stock(ddb, "mug-classic", 1)
    users = [f"user-{n}" for n in range(4)]
    for user in users:
        put(api, "mug-classic", 1, user=user)
        put(api, "coins-500", 1, user=user)
    # When they check out at the same time
    results: dict[str, Any] = {}

    def run(user: str) -> None:
        results[user] = checkout(api, key=f"k-{user}", user=user)

    threads = [threading.Thread(target=run, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then exactly one gets orders; the others get no order at all (not even the coins) and keep their cart
    winners = [user for user, result in results.items() if result.status == 201]
    assert len(winners) == 1
    for user, result in results.items():
        if user in winners:
            continue
        assert result.status == 409 and result.body["code"] in {"OUT_OF_STOCK", "CART_PRICES_CHANGED"}
        assert len(cart_lines(api, user=user)) == 2
    assert stock_of(ddb, "mug-classic") == 0
    orders = [api(api_event("orders_list_orders", user=user)).body["items"] for user in users]
    assert sorted(len(found) for found in orders) == [0, 0, 0, 2]
