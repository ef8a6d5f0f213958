"""Stock of physical goods: reserved with the order, released on cancel, never below zero."""

from __future__ import annotations

import threading
from typing import Any

from tests.conftest import api_event
from tests.integration.conftest import Api
from tests.integration.helpers import PHYSICAL, VIRTUAL, place, placed, set_stock, stock_of


def test_placing_an_order_reserves_stock_and_cancelling_releases_it(api: Api, ddb: Any) -> None:
    # Given 5 mugs in stock
    set_stock(ddb, "mug-classic", 5)
    # When I order 2 / Then 3 are left
    order = placed(api, {**PHYSICAL, "items": [{"sku": "mug-classic", "quantity": 2}]})
    assert stock_of(ddb, "mug-classic") == 3
    # When I cancel it / Then the 2 come back
    cancelled = api(api_event("orders_cancel_order", path_params={"order_id": order["order_id"]}))
    assert cancelled.status == 200
    assert stock_of(ddb, "mug-classic") == 5


def test_two_users_racing_for_the_last_item_exactly_one_wins(api: Api, ddb: Any) -> None:
    # Given one mug left
    set_stock(ddb, "mug-classic", 1)
    results: list[Any] = []
    barrier = threading.Barrier(2)

    def buy(user: str) -> None:
        barrier.wait()
        results.append(place(api, user=user))

    threads = [threading.Thread(target=buy, args=(user,)) for user in ("alice", "bob")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then one order exists, the other request got a clear 409 naming the sku, and stock is 0
    assert sorted(r.status for r in results) == [201, 409]
    loser = next(r for r in results if r.status == 409)
    assert loser.body["code"] == "OUT_OF_STOCK"
    assert "mug-classic" in loser.body["message"]
    assert stock_of(ddb, "mug-classic") == 0
    orders = ddb.scan(
        TableName="OrdersTable", FilterExpression="SK = :o", ExpressionAttributeValues={":o": {"S": "#ORDER"}}
    )
    assert orders["Count"] == 1


def test_an_order_for_more_than_is_left_writes_nothing(api: Api, ddb: Any) -> None:
    set_stock(ddb, "mug-classic", 1)
    set_stock(ddb, "tshirt-logo-m", 10)
    body = {**PHYSICAL, "items": [{"sku": "tshirt-logo-m", "quantity": 1}, {"sku": "mug-classic", "quantity": 2}]}
    response = place(api, body)
    assert (response.status, response.body["code"]) == (409, "OUT_OF_STOCK")
    assert response.body["details"] == [{"skus": ["mug-classic"]}]
    assert ddb.scan(TableName="OrdersTable", Select="COUNT")["Count"] == 0
    assert (stock_of(ddb, "mug-classic"), stock_of(ddb, "tshirt-logo-m")) == (1, 10)


def test_an_out_of_stock_refusal_does_not_burn_the_idempotency_key(api: Api, ddb: Any) -> None:
    # Given a request refused for lack of stock
    set_stock(ddb, "mug-classic", 0)
    assert place(api, key="k-stock").status == 409
    # When the warehouse restocks and the client retries with the same key / Then it goes through
    set_stock(ddb, "mug-classic", 1)
    assert place(api, key="k-stock").status == 201
    assert stock_of(ddb, "mug-classic") == 0


def test_goods_without_stock_are_unlimited(api: Api, ddb: Any) -> None:
    for _ in range(3):
        placed(api, VIRTUAL)
    assert stock_of(ddb, "coins-500") is None


def test_an_order_records_what_it_reserved_but_does_not_show_it(api: Api, ddb: Any) -> None:
    set_stock(ddb, "mug-classic", 3)
    order = placed(api)
    assert "reserved" not in order
    assert order["expires_at"] > order["created_at"]
    item = ddb.get_item(TableName="OrdersTable", Key={"PK": {"S": f"ORDER#{order['order_id']}"}, "SK": {"S": "#ORDER"}})
    assert item["Item"]["reserved"] == {"M": {"mug-classic": {"N": "1"}}}
    assert item["Item"]["GSI3PK"]["S"].startswith("QUEUE#ORDER#PENDING_PAYMENT#")  # one of its shards
