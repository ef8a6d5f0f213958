"""GET /orders, GET /orders/{id}, its timeline, and cancel: through the real handler on moto."""

from __future__ import annotations

from typing import Any

import pytest

from orders.dal.repos import orders_repository
from orders.lifecycle import Action
from orders.logic import transitions
from tests.conftest import api_event
from tests.integration.conftest import Api

VIRTUAL = {"items": [{"sku": "coins-500", "quantity": 1}]}


def place_new(api: Api, user: str = "user-0001") -> dict[str, Any]:
    event = api_event("create_order", body=VIRTUAL, user=user)
    event["headers"].pop("Idempotency-Key")
    event["multiValueHeaders"].pop("Idempotency-Key")
    response = api(event)
    assert response.status == 201, response.body
    return response.body  # type: ignore[no-any-return]


def mark_paid(runtime: Any, order_id: str) -> None:
    """Stand-in for the payment webhook: the same conditional transition it makes."""
    runtime.activate("OrdersFunction")
    transitions.change(orders_repository(), order_id, Action.PAYMENT_SUCCEEDED, actor="test:payment")


def list_orders(api: Api, user: str = "user-0001", **query: str) -> Any:
    return api(api_event("orders_list_orders", user=user, query=query))


def test_a_user_lists_only_their_own_orders_newest_first(api: Api) -> None:
    # Given two orders of mine and one of someone else
    first, second = place_new(api), place_new(api)
    place_new(api, user="someone-else")
    # When I list my orders
    response = list_orders(api)
    # Then I see mine, newest first, and no cursor
    assert response.status == 200
    assert [o["order_id"] for o in response.body["items"]] == [second["order_id"], first["order_id"]]
    assert response.body["next_cursor"] is None


def test_status_filter_uses_the_current_status(api: Api, runtime: Any) -> None:
    paid, pending = place_new(api), place_new(api)
    mark_paid(runtime, paid["order_id"])
    assert [o["order_id"] for o in list_orders(api, status="PAID").body["items"]] == [paid["order_id"]]
    assert [o["order_id"] for o in list_orders(api, status="PENDING_PAYMENT").body["items"]] == [pending["order_id"]]
    assert list_orders(api, status="SHIPPED").body["items"] == []


def test_time_range_is_inclusive_and_can_be_open_ended(api: Api) -> None:
    orders = [place_new(api) for _ in range(3)]
    middle = orders[1]["created_at"]
    assert [o["order_id"] for o in list_orders(api, **{"from": middle, "to": middle}).body["items"]] == [
        orders[1]["order_id"]
    ]
    assert len(list_orders(api, **{"from": middle}).body["items"]) == 2
    assert len(list_orders(api, to=middle).body["items"]) == 2


def test_pages_follow_the_cursor_to_the_end_without_gaps_or_repeats(api: Api) -> None:
    placed = [place_new(api)["order_id"] for _ in range(7)]
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        query = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        body = list_orders(api, **query).body
        seen += [o["order_id"] for o in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(placed))
    assert pages == 3


def test_the_owner_reads_an_order_and_another_user_gets_404(api: Api) -> None:
    order = place_new(api)
    mine = api(api_event("orders_get_order", path_params={"order_id": order["order_id"]}))
    theirs = api(api_event("orders_get_order", user="intruder", path_params={"order_id": order["order_id"]}))
    assert (mine.status, mine.body) == (200, order)
    assert (theirs.status, theirs.body["code"]) == (404, "ORDER_NOT_FOUND")
    timeline = api(api_event("orders_get_timeline", user="intruder", path_params={"order_id": order["order_id"]}))
    assert (timeline.status, timeline.body["code"]) == (404, "ORDER_NOT_FOUND")


def test_support_staff_can_read_any_order_but_analysts_cannot(api: Api) -> None:
    order = place_new(api)
    path = {"order_id": order["order_id"]}
    assert api(api_event("orders_get_order", user="agent", groups=("support",), path_params=path)).status == 200
    assert api(api_event("orders_get_order", user="numbers", groups=("analyst",), path_params=path)).status == 404


def test_unknown_order_is_404(api: Api) -> None:
    response = api(api_event("orders_get_order", path_params={"order_id": "ord_nope"}))
    assert (response.status, response.body["code"]) == (404, "ORDER_NOT_FOUND")


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ({"status": "LOST"}, 422, "VALIDATION_ERROR"),
        ({"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, 422, "INVALID_TIME_RANGE"),
        ({"from": "yesterday"}, 422, "VALIDATION_ERROR"),
        ({"limit": "0"}, 422, "VALIDATION_ERROR"),
        ({"limit": "101"}, 422, "VALIDATION_ERROR"),
        ({"limit": "ten"}, 422, "VALIDATION_ERROR"),
        ({"cursor": "definitely-not-a-cursor"}, 400, "INVALID_CURSOR"),
    ],
    ids=["unknown-status", "from-after-to", "bad-time", "limit-0", "limit-101", "limit-text", "garbage-cursor"],
)
def test_bad_list_queries_are_refused(api: Api, query: dict[str, str], status: int, code: str) -> None:
    response = list_orders(api, **query)
    assert (response.status, response.body["code"]) == (status, code)


def test_another_users_cursor_is_refused(api: Api) -> None:
    # Given a cursor from someone else's listing
    for _ in range(3):
        place_new(api, user="victim")
    foreign = list_orders(api, user="victim", limit="1").body["next_cursor"]
    assert foreign
    # When I present it / Then it is refused, and it works for its owner
    response = list_orders(api, cursor=foreign, limit="1")
    assert (response.status, response.body["code"]) == (400, "INVALID_CURSOR")
    assert list_orders(api, user="victim", cursor=foreign, limit="1").status == 200


def test_a_cursor_from_another_status_filter_is_refused(api: Api) -> None:
    for _ in range(3):
        place_new(api)
    cursor = list_orders(api, limit="1").body["next_cursor"]
    response = list_orders(api, status="PENDING_PAYMENT", cursor=cursor, limit="1")
    assert (response.status, response.body["code"]) == (400, "INVALID_CURSOR")


def test_owner_cancels_an_unpaid_order_and_the_timeline_records_it(api: Api) -> None:
    order = place_new(api)
    path = {"order_id": order["order_id"]}
    cancelled = api(api_event("orders_cancel_order", path_params=path))
    assert (cancelled.status, cancelled.body["status"]) == (200, "CANCELLED")
    events = api(api_event("orders_get_timeline", path_params=path)).body["items"]
    assert [(e["type"], e["from_status"], e["to_status"], e["actor"]) for e in events] == [
        ("CREATED", None, "PENDING_PAYMENT", "user:user-0001"),
        ("CANCEL", "PENDING_PAYMENT", "CANCELLED", "user:user-0001"),
    ]


def test_cancelling_a_paid_order_is_a_conflict_and_writes_nothing(api: Api, runtime: Any, ddb: Any) -> None:
    order = place_new(api)
    mark_paid(runtime, order["order_id"])
    before = ddb.scan(TableName="OrdersTable")["Items"]
    response = api(api_event("orders_cancel_order", path_params={"order_id": order["order_id"]}))
    assert (response.status, response.body["code"]) == (409, "INVALID_TRANSITION")
    assert ddb.scan(TableName="OrdersTable")["Items"] == before


def test_cancelling_twice_is_a_conflict(api: Api) -> None:
    path = {"order_id": place_new(api)["order_id"]}
    assert api(api_event("orders_cancel_order", path_params=path)).status == 200
    again = api(api_event("orders_cancel_order", path_params=path))
    assert (again.status, again.body["code"]) == (409, "INVALID_TRANSITION")


def test_another_user_cannot_cancel_my_order(api: Api) -> None:
    order = place_new(api)
    response = api(api_event("orders_cancel_order", user="intruder", path_params={"order_id": order["order_id"]}))
    assert (response.status, response.body["code"]) == (404, "ORDER_NOT_FOUND")
    assert api(api_event("orders_get_order", path_params={"order_id": order["order_id"]})).body["status"] == (
        "PENDING_PAYMENT"
    )
