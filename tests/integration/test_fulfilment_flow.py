"""The demo path through the real handlers: a physical order to COMPLETED, a virtual one to its entitlement.

Payment is marked as the webhook would (a conditional PAYMENT_SUCCEEDED); the fulfilment function is
then invoked with the stream record of that write, built from the items actually stored.
"""

from __future__ import annotations

from typing import Any

import pytest

from orders.logic import fulfilment
from tests.conftest import api_event, load_event
from tests.integration.conftest import Api
from tests.integration.helpers import PHYSICAL, VIRTUAL, mark_paid, order_item, order_items, placed, stream_event

OPS: dict[str, Any] = {"user": "ops-1", "groups": ("ops",)}


def pay_and_stream(api: Api, runtime: Any, ddb: Any, order_id: str) -> dict[str, Any]:
    """Mark PAID, then deliver the resulting stream record to the fulfilment function."""
    old = order_item(ddb, order_id)
    mark_paid(runtime, order_id)
    event = stream_event(order_item(ddb, order_id), old)
    response = runtime.invoke("FulfilmentFunction", event)
    assert response == {"batchItemFailures": []}
    return event


def get(api: Api, order_id: str, user: str = "user-0001") -> dict[str, Any]:
    return api(api_event("orders_get_order", user=user, path_params={"order_id": order_id})).body  # type: ignore[no-any-return]


def test_the_sample_stream_event_is_a_paid_order_record() -> None:
    record = load_event("fulfilment_paid_order")["Records"][0]
    assert record["eventSourceARN"].startswith("arn:aws:dynamodb:")
    assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], int)
    assert record["dynamodb"]["NewImage"]["status"] == {"S": "PAID"}
    assert record["dynamodb"]["OldImage"]["status"] == {"S": "PENDING_PAYMENT"}


def test_a_physical_order_walks_from_creation_to_completed(api: Api, runtime: Any, ddb: Any) -> None:
    # Given a placed and paid physical order, handed to fulfilment by the stream
    order = placed(api)
    oid = order["order_id"]
    path = {"order_id": oid}
    pay_and_stream(api, runtime, ddb, oid)
    assert get(api, oid)["status"] == "PENDING_SHIPMENT"
    # When ops ship it with a carrier and tracking number
    shipped = api(
        api_event("shipping_ship", path_params=path, body={"carrier": "DHL", "tracking_number": "JD01"}, **OPS)
    )
    assert (shipped.status, shipped.body["status"]) == (200, "SHIPPED")
    assert shipped.body["shipment"]["carrier"] == "DHL"
    assert shipped.body["shipment"]["tracking_number"] == "JD01"
    # And deliver it, and the owner confirms receipt
    delivered = api(api_event("shipping_deliver", path_params=path, **OPS))
    assert (delivered.status, delivered.body["status"]) == (200, "DELIVERED")
    assert delivered.body["delivered_at"]
    completed = api(api_event("shipping_confirm_receipt", path_params=path))
    assert (completed.status, completed.body["status"]) == (200, "COMPLETED")
    # Then the timeline tells the whole story, with the shipment in its details
    events = api(api_event("orders_get_timeline", path_params=path)).body["items"]
    assert [(e["type"], e["to_status"]) for e in events] == [
        ("CREATED", "PENDING_PAYMENT"),
        ("PAYMENT_SUCCEEDED", "PAID"),
        ("START_FULFILMENT", "PENDING_SHIPMENT"),
        ("SHIP", "SHIPPED"),
        ("DELIVER", "DELIVERED"),
        ("CONFIRM_RECEIPT", "COMPLETED"),
    ]
    assert events[3]["details"] == {"carrier": "DHL", "tracking_number": "JD01"}
    assert events[3]["actor"] == "ops:ops-1"
    # And it has left every work queue
    assert "GSI3PK" not in order_item(ddb, oid)


def test_a_virtual_order_is_granted_and_completed(api: Api, runtime: Any, ddb: Any) -> None:
    # Given a paid order for coins and a subscription
    order = placed(api, VIRTUAL)
    pay_and_stream(api, runtime, ddb, order["order_id"])
    # Then it is COMPLETED and the entitlements are mine
    assert get(api, order["order_id"])["status"] == "COMPLETED"
    mine = api(api_event("entitlements_my_entitlements"))
    assert mine.status == 200
    items = {e["sku"]: e for e in mine.body["items"]}
    assert items["coins-500"]["quantity"] == 2 and items["coins-500"]["expires_at"] is None
    assert items["premium-monthly"]["active"] is True
    assert items["premium-monthly"]["expires_at"] > order["created_at"]
    assert items["coins-500"]["orders"] == [order["order_id"]]
    # And nobody else has them
    assert api(api_event("entitlements_my_entitlements", user="someone-else")).body["items"] == []


def test_a_redelivered_record_changes_nothing(api: Api, runtime: Any, ddb: Any) -> None:
    order = placed(api, VIRTUAL)
    event = pay_and_stream(api, runtime, ddb, order["order_id"])
    before = order_items(ddb)
    # When the same record arrives again
    assert runtime.invoke("FulfilmentFunction", event) == {"batchItemFailures": []}
    # Then nothing was written: one grant, one GRANT event
    assert order_items(ddb) == before


def test_renewing_a_subscription_stacks_its_period(api: Api, runtime: Any, ddb: Any) -> None:
    sub = {"items": [{"sku": "premium-monthly", "quantity": 1}]}
    first, second = placed(api, sub), placed(api, sub)
    pay_and_stream(api, runtime, ddb, first["order_id"])
    one = api(api_event("entitlements_my_entitlements")).body["items"][0]["expires_at"]
    pay_and_stream(api, runtime, ddb, second["order_id"])
    two = api(api_event("entitlements_my_entitlements")).body["items"][0]
    assert two["expires_at"] > one
    assert two["quantity"] == 2


def test_a_mixed_order_grants_its_virtual_lines_and_waits_for_shipment(api: Api, runtime: Any, ddb: Any) -> None:
    body = {**PHYSICAL, "items": [*PHYSICAL["items"], {"sku": "coins-500", "quantity": 1}]}
    order = placed(api, body)
    pay_and_stream(api, runtime, ddb, order["order_id"])
    assert get(api, order["order_id"])["status"] == "PENDING_SHIPMENT"
    assert [e["sku"] for e in api(api_event("entitlements_my_entitlements")).body["items"]] == ["coins-500"]


def test_records_that_are_not_paid_orders_are_ignored(api: Api, runtime: Any, ddb: Any) -> None:
    order = placed(api)
    event = stream_event(order_item(ddb, order["order_id"]))  # a PENDING_PAYMENT insert
    assert runtime.invoke("FulfilmentFunction", event) == {"batchItemFailures": []}
    assert get(api, order["order_id"])["status"] == "PENDING_PAYMENT"


def test_a_failing_record_is_reported_and_the_rest_of_the_batch_goes_through(
    api: Api, runtime: Any, ddb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    good, bad = placed(api, VIRTUAL), placed(api, VIRTUAL)
    records = []
    for n, order in enumerate((good, bad), start=1):
        old = order_item(ddb, order["order_id"])
        mark_paid(runtime, order["order_id"])
        records += stream_event(order_item(ddb, order["order_id"]), old, sequence=n)["Records"]
    real = fulfilment.on_paid

    def flaky(order_id: str) -> Any:
        if order_id == bad["order_id"]:
            raise RuntimeError("throttled")
        return real(order_id)

    monkeypatch.setattr(fulfilment, "on_paid", flaky)
    response = runtime.invoke("FulfilmentFunction", {"Records": records})
    assert response == {"batchItemFailures": [{"itemIdentifier": records[1]["dynamodb"]["SequenceNumber"]}]}
    assert get(api, good["order_id"])["status"] == "COMPLETED"
    assert get(api, bad["order_id"])["status"] == "PAID"


def test_revoke_entitlements_takes_back_what_a_refund_refunds(api: Api, runtime: Any, ddb: Any) -> None:
    # Given a granted order of 2 x coins and a subscription
    order = placed(api, VIRTUAL)
    oid = order["order_id"]
    pay_and_stream(api, runtime, ddb, oid)
    # When the refund workflow revokes one coin pack
    runtime._enter("FulfilmentFunction")
    revoked = fulfilment.revoke_entitlements(oid, {"coins-500": 1})
    assert [(e.sku, e.remaining) for e in revoked] == [("coins-500", 1)]
    # And later everything (asking again for what is gone is harmless)
    fulfilment.revoke_entitlements(oid)
    fulfilment.revoke_entitlements(oid)
    # Then the user holds nothing active from that order
    items = {e["sku"]: e for e in api(api_event("entitlements_my_entitlements")).body["items"]}
    assert (items["coins-500"]["quantity"], items["coins-500"]["active"]) == (0, False)
    assert items["premium-monthly"]["active"] is False
