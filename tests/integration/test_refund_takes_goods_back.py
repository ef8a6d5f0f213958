"""A refund takes back what it paid for: the fulfilment consumer revokes grants and returns unshipped stock.

Refunds are booked here through the provider-refund path (logic.payments.record_provider_refund, the same
decision a provider's refund notification takes); the fulfilment function then gets the stream record of
that write, exactly as the event source mapping would hand it over (the template's filter included).
"""

from __future__ import annotations

import json
from typing import Any

from local_stack.streams import matches
from orders.logic import payments
from orders.models.payment import Provider
from tests.conftest import api_event
from tests.integration.conftest import TEMPLATE, Api
from tests.integration.helpers import (
    PHYSICAL,
    VIRTUAL,
    mark_paid,
    order_item,
    placed,
    set_stock,
    stock_of,
    stream_event,
)

OPS: dict[str, Any] = {"user": "ops-1", "groups": ("ops",)}


def stream(runtime: Any, ddb: Any, order_id: str, old: dict[str, Any]) -> dict[str, Any]:
    """Deliver the record of the order's last write to the fulfilment function (through its filter)."""
    event = stream_event(order_item(ddb, order_id), old)
    patterns = [
        json.loads(f["Pattern"])
        for f in TEMPLATE["Resources"]["FulfilmentFunction"]["Properties"]["Events"]["PaidOrders"]["Properties"][
            "FilterCriteria"
        ]["Filters"]
    ]
    event["Records"] = [r for r in event["Records"] if any(matches(p, r) for p in patterns)]
    if event["Records"]:
        assert runtime.invoke("FulfilmentFunction", event) == {"batchItemFailures": []}
    return event


def pay(runtime: Any, ddb: Any, order_id: str) -> None:
    old = order_item(ddb, order_id)
    mark_paid(runtime, order_id)
    stream(runtime, ddb, order_id, old)


def refund_at_provider(runtime: Any, ddb: Any, order_id: str, amount: int, ref: str) -> dict[str, Any]:
    old = order_item(ddb, order_id)
    runtime.activate("PaymentWebhookFunction")
    assert payments.record_provider_refund(
        order_id, Provider.STRIPE, ref, amount, actor="provider:stripe", refund_id=f"dashboard-{ref}"
    )
    return stream(runtime, ddb, order_id, old)


def held(api: Api) -> dict[str, dict[str, Any]]:
    return {e["sku"]: e for e in api(api_event("entitlements_my_entitlements")).body["items"]}


def test_a_full_refund_revokes_every_grant_of_the_order(api: Api, runtime: Any, ddb: Any) -> None:
    # Given a granted order of 2 x coins and a subscription
    order = placed(api, VIRTUAL)
    pay(runtime, ddb, order["order_id"])
    assert held(api)["premium-monthly"]["active"] is True
    # When all of it is refunded at the provider
    refund_at_provider(runtime, ddb, order["order_id"], order["total"], "re_full")
    # Then the user holds nothing of it any more
    items = held(api)
    assert (items["coins-500"]["quantity"], items["coins-500"]["active"]) == (0, False)
    assert items["premium-monthly"]["active"] is False


def test_a_partial_refund_revokes_the_units_it_paid_for(api: Api, runtime: Any, ddb: Any) -> None:
    # Given 2 x coins (998) and 1 month (999): total 1997
    order = placed(api, VIRTUAL)
    oid = order["order_id"]
    pay(runtime, ddb, oid)
    # When 999 of 1997 is refunded: floor(2 * 999 / 1997) = 1 coin pack, floor(1 * 999 / 1997) = 0 months
    event = refund_at_provider(runtime, ddb, oid, 999, "re_half")
    items = held(api)
    assert items["coins-500"]["quantity"] == 1
    assert items["premium-monthly"]["active"] is True
    # And the same record delivered again takes nothing more
    assert runtime.invoke("FulfilmentFunction", event) == {"batchItemFailures": []}
    assert held(api)["coins-500"]["quantity"] == 1
    # When the rest is refunded, everything goes
    refund_at_provider(runtime, ddb, oid, 998, "re_rest")
    items = held(api)
    assert (items["coins-500"]["quantity"], items["premium-monthly"]["active"]) == (0, False)


def test_a_refund_booked_before_the_grant_applies_when_it_is_granted(api: Api, runtime: Any, ddb: Any) -> None:
    # Given a paid order whose grant has not run yet, refunded in part at the provider
    order = placed(api, {"items": [{"sku": "coins-500", "quantity": 2}]})
    oid = order["order_id"]
    old = order_item(ddb, oid)
    mark_paid(runtime, oid)
    paid_record = stream_event(order_item(ddb, oid), old)
    refund_at_provider(runtime, ddb, oid, 499, "re_early")
    # When the PAID record is delivered late
    assert runtime.invoke("FulfilmentFunction", paid_record) == {"batchItemFailures": []}
    # Then the grant already leaves out the refunded unit
    assert held(api)["coins-500"]["quantity"] == 1


def test_a_physical_order_refunded_before_it_shipped_gives_its_stock_back(api: Api, runtime: Any, ddb: Any) -> None:
    set_stock(ddb, "mug-classic", 5)
    order, shipped = placed(api, PHYSICAL), placed(api, PHYSICAL)
    oid = order["order_id"]
    for paid in (order, shipped):
        pay(runtime, ddb, paid["order_id"])
    assert stock_of(ddb, "mug-classic") == 3
    body = {"carrier": "DHL", "tracking_number": "JD01"}
    path = {"order_id": shipped["order_id"]}
    assert api(api_event("shipping_ship", path_params=path, body=body, **OPS)).status == 200
    # When the unshipped one is refunded in part, it stays sold (it still ships)
    refund_at_provider(runtime, ddb, oid, 500, "re_part")
    assert stock_of(ddb, "mug-classic") == 3
    # When it is refunded in full before it shipped
    event = refund_at_provider(runtime, ddb, oid, order["total"] - 500, "re_unshipped")
    # Then its unit is back in stock, once, and the timeline says so
    assert stock_of(ddb, "mug-classic") == 4
    assert runtime.invoke("FulfilmentFunction", event) == {"batchItemFailures": []}
    assert stock_of(ddb, "mug-classic") == 4
    events = api(api_event("orders_get_timeline", path_params={"order_id": oid})).body["items"]
    assert [e["type"] for e in events][-2:] == ["REFUND_FULL", "STOCK_RETURNED"]
    assert events[-1]["details"]["returned"] == {"mug-classic": 1}
    # And a shipped order refunded in full keeps its unit sold (a return is the warehouse's business)
    refund_at_provider(runtime, ddb, shipped["order_id"], shipped["total"], "re_shipped")
    assert stock_of(ddb, "mug-classic") == 4
