"""Shipping, delivery and receipt: every transition, its illegal neighbours, and who may do it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from orders.dal.repos import orders_repository
from orders.lifecycle import Action
from orders.logic import transitions
from tests.conftest import api_event
from tests.integration.conftest import Api
from tests.integration.helpers import mark_paid, order_items, placed

OPS: dict[str, Any] = {"user": "ops-1", "groups": ("ops",)}
SHIPMENT = {"carrier": "UPS", "tracking_number": "1Z999"}


def ship(api: Api, oid: str, **who: Any) -> Any:
    return api(api_event("shipping_ship", path_params={"order_id": oid}, body=SHIPMENT, **(who or OPS)))


def deliver(api: Api, oid: str, **who: Any) -> Any:
    return api(api_event("shipping_deliver", path_params={"order_id": oid}, **(who or OPS)))


def confirm(api: Api, oid: str, user: str = "user-0001") -> Any:
    return api(api_event("shipping_confirm_receipt", user=user, path_params={"order_id": oid}))


def order_in(api: Api, runtime: Any, status: str) -> str:
    """A physical order of user-0001 brought to ``status`` the legal way."""
    oid: str = placed(api)["order_id"]
    steps = ["PAID", "PENDING_SHIPMENT", "SHIPPED", "DELIVERED", "COMPLETED"]
    if status in ("PENDING_PAYMENT", "CANCELLED"):
        if status == "CANCELLED":
            api(api_event("orders_cancel_order", path_params={"order_id": oid}))
        return oid
    mark_paid(runtime, oid)
    for step in steps[1 : steps.index(status) + 1]:
        if step == "PENDING_SHIPMENT":
            runtime._enter("ShippingFunction")
            transitions.change(orders_repository(), oid, Action.START_FULFILMENT, actor="test")
        elif step == "SHIPPED":
            assert ship(api, oid).status == 200
        elif step == "DELIVERED":
            assert deliver(api, oid).status == 200
        elif step == "COMPLETED":
            assert confirm(api, oid).status == 200
    return oid


ACTIONS: dict[str, tuple[Callable[..., Any], str]] = {
    "ship": (ship, "PENDING_SHIPMENT"),
    "deliver": (deliver, "SHIPPED"),
    "confirm": (confirm, "DELIVERED"),
}
STATUSES = ["PENDING_PAYMENT", "CANCELLED", "PAID", "PENDING_SHIPMENT", "SHIPPED", "DELIVERED", "COMPLETED"]


@pytest.mark.parametrize(
    ("action", "status"),
    [(a, s) for a, (_, legal) in ACTIONS.items() for s in STATUSES if s != legal],
)
def test_an_action_from_the_wrong_status_is_409_and_writes_nothing(
    api: Api, runtime: Any, ddb: Any, action: str, status: str
) -> None:
    # Given an order in a status the action does not start from
    oid = order_in(api, runtime, status)
    before = order_items(ddb)
    # When the action is tried / Then 409 INVALID_TRANSITION and the table is untouched
    response = ACTIONS[action][0](api, oid)
    assert (response.status, response.body["code"]) == (409, "INVALID_TRANSITION")
    assert order_items(ddb) == before


@pytest.mark.parametrize("action", list(ACTIONS))
def test_each_action_from_its_status_succeeds(api: Api, runtime: Any, action: str) -> None:
    func, legal = ACTIONS[action]
    oid = order_in(api, runtime, legal)
    assert func(api, oid).status == 200


def test_confirming_twice_is_a_conflict(api: Api, runtime: Any) -> None:
    oid = order_in(api, runtime, "DELIVERED")
    assert confirm(api, oid).status == 200
    again = confirm(api, oid)
    assert (again.status, again.body["code"]) == (409, "INVALID_TRANSITION")


def test_only_the_owner_confirms_receipt(api: Api, runtime: Any) -> None:
    oid = order_in(api, runtime, "DELIVERED")
    response = confirm(api, oid, user="intruder")
    assert (response.status, response.body["code"]) == (404, "ORDER_NOT_FOUND")


@pytest.mark.parametrize("groups", [(), ("support",), ("analyst",)])
def test_ship_and_deliver_are_for_ops_only(api: Api, runtime: Any, ddb: Any, groups: tuple[str, ...]) -> None:
    oid = order_in(api, runtime, "PENDING_SHIPMENT")
    before = order_items(ddb)
    for call in (ship, deliver):
        response = call(api, oid, user="user-0001", groups=groups)
        assert (response.status, response.body["code"]) == (403, "FORBIDDEN")
    assert order_items(ddb) == before


def test_shipping_an_unknown_order_is_404(api: Api) -> None:
    assert ship(api, "ord_nope").body["code"] == "ORDER_NOT_FOUND"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"carrier": "UPS"},
        {"carrier": "", "tracking_number": "1"},
        {"carrier": "UPS", "tracking_number": "<script>"},
    ],
)
def test_a_shipment_needs_a_carrier_and_a_tracking_number(api: Api, runtime: Any, body: Any) -> None:
    oid = order_in(api, runtime, "PENDING_SHIPMENT")
    response = api(api_event("shipping_ship", path_params={"order_id": oid}, body=body, **OPS))
    assert (response.status, response.body["code"]) == (422, "VALIDATION_ERROR")


def shipping_queue(api: Api, status: str = "PENDING_SHIPMENT", **who: Any) -> Any:
    return api(api_event("shipping_queue", query={"status": status}, **(who or OPS)))


def test_ops_see_orders_to_ship_then_to_deliver_oldest_first(api: Api, runtime: Any) -> None:
    # Given two orders waiting for shipment and one still unpaid
    first = order_in(api, runtime, "PENDING_SHIPMENT")
    second = order_in(api, runtime, "PENDING_SHIPMENT")
    order_in(api, runtime, "PENDING_PAYMENT")
    # When ops read the shipping queue / Then both wait, the oldest first, and nothing else
    waiting = shipping_queue(api)
    assert waiting.status == 200, waiting.body
    assert [o["order_id"] for o in waiting.body["items"]] == [first, second]
    # When the first is shipped / Then it moves to the delivery queue
    assert ship(api, first).status == 200
    assert [o["order_id"] for o in shipping_queue(api).body["items"]] == [second]
    shipped = shipping_queue(api, "SHIPPED").body["items"]
    assert [(o["order_id"], o["shipment"]["carrier"]) for o in shipped] == [(first, "UPS")]
    # When it is delivered / Then no queue holds it
    assert deliver(api, first).status == 200
    assert shipping_queue(api, "SHIPPED").body["items"] == []


def test_the_shipping_queue_pages_with_a_cursor(api: Api, runtime: Any) -> None:
    # Given three orders waiting for shipment
    ids = [order_in(api, runtime, "PENDING_SHIPMENT") for _ in range(3)]
    # When ops read it two at a time / Then the pages hold every order once, in order
    page = api(api_event("shipping_queue", query={"status": "PENDING_SHIPMENT", "limit": "2"}, **OPS)).body
    assert page["next_cursor"]
    rest = api(
        api_event("shipping_queue", query={"status": "PENDING_SHIPMENT", "cursor": page["next_cursor"]}, **OPS)
    ).body
    assert [o["order_id"] for o in page["items"] + rest["items"]] == ids
    assert rest["next_cursor"] is None


@pytest.mark.parametrize("groups", [(), ("support",), ("reviewer",)])
def test_only_ops_read_the_shipping_queue(api: Api, groups: tuple[str, ...]) -> None:
    # When someone without the ops role asks / Then 403
    response = shipping_queue(api, user="someone", groups=groups)
    assert (response.status, response.body["code"]) == (403, "FORBIDDEN")


def test_a_queue_that_is_not_a_shipping_queue_is_422(api: Api) -> None:
    # When ops ask for another status / Then 422 with the field named
    response = shipping_queue(api, "DELIVERED")
    assert (response.status, response.body["code"]) == (422, "VALIDATION_ERROR")
