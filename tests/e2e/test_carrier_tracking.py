"""The fake carrier over real HTTP: a shipped parcel is followed to delivery by signed callbacks."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import requests

from local_stack.demo import Demo, order_status, pay, wait_for
from orders.logic import carriers
from tests.e2e.conftest import RunningStack

ADDRESS = {"name": "Ada Lovelace", "line1": "12 Analytical Row", "city": "London", "postal_code": "N1", "country": "GB"}


def shipped(demo: Demo, tracking_number: str) -> str:
    """A paid physical order of a client who reads e-mail, shipped with the fake carrier."""
    prefs = {"channels": ["email"], "email": "client@example.com"}
    demo.call("PUT", "/me/preferences", as_user="client", json=prefs)
    body = {"items": [{"sku": "hoodie-logo-l", "quantity": 1}], "shipping_address": ADDRESS}
    created = demo.call("POST", "/orders", as_user="client", json=body, expect=201)
    demo.state["order"] = created
    pay(demo)
    order_status(demo, "order", "PENDING_SHIPMENT")
    path = f"/orders/{created['order_id']}/shipments"
    shipment = {"carrier": "fakecarrier", "tracking_number": tracking_number}
    demo.call("POST", path, as_user="warehouse", groups=("ops",), json=shipment)
    return str(created["order_id"])


def test_the_fake_carrier_follows_a_parcel_to_delivery(local_stack: RunningStack) -> None:
    # Given a paid physical order shipped with the fake carrier
    demo = Demo(local_stack.url)
    order_id = shipped(demo, f"FC{uuid.uuid4().hex[:10].upper()}")

    # When the carrier's signed callbacks arrive over HTTP
    def delivered() -> dict[str, Any] | None:
        got: dict[str, Any] = demo.call("GET", f"/orders/{order_id}/tracking", as_user="client")
        return got if got["status"] == "delivered" else None

    tracking = wait_for(demo, "delivered", delivered, timeout=40)
    # Then every milestone is listed oldest first, the order is DELIVERED, and each milestone told the client once
    assert [e["status"] for e in tracking["events"]] == ["picked_up", "in_transit", "out_for_delivery", "delivered"]
    assert order_status(demo, "order", "DELIVERED")["status"] == "DELIVERED"
    wanted = ["tracking.picked_up", "tracking.in_transit", "tracking.out_for_delivery", "order.delivered"]

    def notified() -> list[str] | None:
        items = requests.get(f"{local_stack.url}/_local/notifications?order_id={order_id}", timeout=10).json()["items"]
        events = [i["event"] for i in items if i["event"].startswith("tracking.") or i["event"] == "order.delivered"]
        return events if set(wanted) <= set(events) else None

    assert sorted(wait_for(demo, "milestone notifications", notified, timeout=20)) == sorted(wanted)
    # And another user cannot read the tracking
    demo.call("GET", f"/orders/{order_id}/tracking", as_user="stranger", expect=404)


def test_a_forged_callback_over_http_is_401(local_stack: RunningStack) -> None:
    # Given a callback signed with a secret that is not the carrier's
    body = json.dumps(
        {
            "event_id": "forged_1",
            "reference": "ord_nope",
            "tracking_number": "FC1",
            "status": "delivered",
            "occurred_at": "2026-11-28T10:00:00Z",
        }
    )
    header = carriers.sign("not-the-secret", int(time.time()), body.encode())
    # When it is posted / Then it is refused
    response = requests.post(
        f"{local_stack.url}/webhooks/carriers/fakecarrier",
        data=body,
        headers={carriers.SIGNATURE_HEADER: header, "Content-Type": "application/json"},
        timeout=10,
    )
    assert (response.status_code, response.json()["code"]) == (401, "WEBHOOK_SIGNATURE_INVALID")
