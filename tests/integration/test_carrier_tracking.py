"""Carrier tracking callbacks over the real handler: signed, deduplicated, never backwards, exactly once."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from orders.logic import carriers
from tests.conftest import api_event
from tests.integration.conftest import Api, put_secret
from tests.integration.notify_support import Notify, outbox
from tests.integration.test_shipping import order_in

CARRIER = "fakecarrier"
SECRET = "carrier_local_only_not_a_secret"  # local_stack.resources.LOCAL_SECRET_VALUES
TRACKING = "1Z999"  # test_shipping.SHIPMENT, carrier UPS: re-shipped below as the fake carrier
BASE = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def shipped_order(api: Api, runtime: Any) -> str:
    """A physical order of user-0001, shipped with the fake carrier."""
    oid = order_in(api, runtime, "PENDING_SHIPMENT")
    body = {"carrier": CARRIER, "tracking_number": TRACKING}
    response = api(api_event("shipping_ship", path_params={"order_id": oid}, body=body, user="ops-1", groups=("ops",)))
    assert response.status == 200, response.body
    return oid


def callback(
    api: Api,
    oid: str,
    status: str,
    *,
    event_id: str | None = None,
    minutes: int = 0,
    tracking_number: str = TRACKING,
    secret: str = SECRET,
    signed_at: int | None = None,
    carrier: str = CARRIER,
) -> Any:
    body = json.dumps(
        {
            "event_id": event_id or f"ev_{status}",
            "reference": oid,
            "tracking_number": tracking_number,
            "status": status,
            "occurred_at": (BASE + timedelta(minutes=minutes)).isoformat(),
            "location": "Leipzig hub",
        }
    )
    header = carriers.sign(secret, signed_at if signed_at is not None else int(time.time()), body.encode())
    return api(
        api_event(
            "carrier_tracking_carrier_webhook",
            raw_body=body,
            path_params={"carrier": carrier},
            headers={carriers.SIGNATURE_HEADER: header},
        )
    )


def tracking(api: Api, oid: str, user: str = "user-0001", groups: tuple[str, ...] = ()) -> Any:
    return api(api_event("carrier_tracking_get_tracking", path_params={"order_id": oid}, user=user, groups=groups))


def order_status(api: Api, oid: str) -> str:
    response = api(api_event("orders_get_order", path_params={"order_id": oid}))
    return str(response.body["status"])


def items(ddb: Any, oid: str, prefix: str) -> list[dict[str, Any]]:
    return outbox(ddb, oid, prefix)


def test_a_signed_callback_is_listed_on_the_tracking_route(api: Api, runtime: Any) -> None:
    # Given a shipped order
    oid = shipped_order(api, runtime)
    # When the carrier reports the pick-up
    response = callback(api, oid, "picked_up")
    # Then it is acknowledged and the owner sees it with the carrier's time
    assert response.status == 200, response.body
    assert response.body == {"received": True, "duplicate": False, "status": "picked_up", "moved": True}
    got = tracking(api, oid).body
    assert (got["carrier"], got["tracking_number"], got["status"]) == (CARRIER, TRACKING, "picked_up")
    assert [(e["status"], e["occurred_at"]) for e in got["events"]] == [("picked_up", "2026-11-28T10:00:00.000000Z")]


def test_a_forged_signature_is_401_and_changes_nothing(api: Api, runtime: Any, ddb: Any) -> None:
    # Given a shipped order
    oid = shipped_order(api, runtime)
    # When a callback signed with another secret arrives
    response = callback(api, oid, "delivered", secret="not-the-carrier")
    # Then it is refused and nothing is stored
    assert (response.status, response.body["code"]) == (401, "WEBHOOK_SIGNATURE_INVALID")
    assert items(ddb, oid, "TRACK") == []
    assert order_status(api, oid) == "SHIPPED"


def test_a_stale_timestamp_is_401_and_changes_nothing(api: Api, runtime: Any, ddb: Any) -> None:
    # Given a shipped order and a correctly signed callback from ten minutes ago
    oid = shipped_order(api, runtime)
    response = callback(api, oid, "delivered", signed_at=int(time.time()) - 600)
    # Then it is refused as stale and nothing is stored
    assert (response.status, response.body["code"]) == (401, "WEBHOOK_TIMESTAMP_STALE")
    assert items(ddb, oid, "TRACK") == []
    assert order_status(api, oid) == "SHIPPED"


def test_an_unknown_carrier_is_404(api: Api, runtime: Any) -> None:
    oid = shipped_order(api, runtime)
    response = callback(api, oid, "picked_up", carrier="nobody")
    assert (response.status, response.body["code"]) == (404, "UNKNOWN_CARRIER")


def test_a_replayed_event_id_is_acknowledged_and_stored_once(api: Api, runtime: Any, ddb: Any) -> None:
    # Given an event already received
    oid = shipped_order(api, runtime)
    assert callback(api, oid, "in_transit", event_id="ev_1").status == 200
    # When the same event id arrives again (a retry, or a replay re-signed now)
    again = callback(api, oid, "in_transit", event_id="ev_1", minutes=5)
    # Then it is acknowledged as a duplicate and nothing more is stored
    assert (again.status, again.body["duplicate"]) == (200, True)
    assert len(tracking(api, oid).body["events"]) == 1
    assert len(items(ddb, oid, "TRACKEVENT#")) == 1


def test_out_of_order_callbacks_are_stored_but_never_move_backwards(api: Api, runtime: Any) -> None:
    # Given a shipped order whose delivery is reported first
    oid = shipped_order(api, runtime)
    assert callback(api, oid, "delivered", minutes=60).body["moved"] is True
    # When the older in_transit event arrives late
    late = callback(api, oid, "in_transit", minutes=10)
    # Then it is stored, but the parcel and the order stay delivered
    assert (late.status, late.body["moved"], late.body["status"]) == (200, False, "delivered")
    got = tracking(api, oid).body
    assert got["status"] == "delivered"
    assert [e["status"] for e in got["events"]] == ["in_transit", "delivered"]  # oldest first
    assert order_status(api, oid) == "DELIVERED"


def test_a_wrong_tracking_number_is_409_and_changes_nothing(api: Api, runtime: Any, ddb: Any) -> None:
    oid = shipped_order(api, runtime)
    response = callback(api, oid, "delivered", tracking_number="OTHER123")
    assert (response.status, response.body["code"]) == (409, "SHIPMENT_MISMATCH")
    assert items(ddb, oid, "TRACK") == []
    assert order_status(api, oid) == "SHIPPED"


def test_a_callback_for_an_unknown_order_is_404(api: Api, runtime: Any) -> None:
    response = callback(api, "ord_nope", "picked_up")
    assert (response.status, response.body["code"]) == (404, "ORDER_NOT_FOUND")


def test_delivered_moves_the_order_once(api: Api, runtime: Any, ddb: Any) -> None:
    # Given a shipped order
    oid = shipped_order(api, runtime)
    # When delivered is reported twice (two event ids) and then retried
    for event_id in ("ev_d1", "ev_d2", "ev_d1"):
        assert callback(api, oid, "delivered", event_id=event_id, minutes=30).status == 200
    # Then the order is DELIVERED through exactly one transition, made by the carrier
    assert order_status(api, oid) == "DELIVERED"
    timeline = api(api_event("orders_get_timeline", path_params={"order_id": oid})).body["items"]
    delivered = [e for e in timeline if e.get("to_status") == "DELIVERED"]
    assert len(delivered) == 1 and delivered[0]["actor"] == f"carrier:{CARRIER}"


def test_an_exception_opens_one_support_ticket(api: Api, runtime: Any, ddb: Any) -> None:
    # Given a shipped order
    oid = shipped_order(api, runtime)
    # When the carrier reports exceptions three times (two events, one retried)
    for event_id, minutes in (("ev_x1", 5), ("ev_x2", 10), ("ev_x1", 5)):
        assert callback(api, oid, "exception", event_id=event_id, minutes=minutes).status == 200
    # Then exactly one OPEN delivery ticket exists for the shipment
    tickets = items(ddb, oid, "TICKET#")
    assert [(t["status"], t["category"], t["user_id"]) for t in tickets] == [("OPEN", "delivery", "user-0001")]


def test_a_failed_delivery_attempt_opens_a_ticket_then_the_next_attempt_delivers(
    api: Api, runtime: Any, ddb: Any
) -> None:
    # Given a shipped order out for delivery
    oid = shipped_order(api, runtime)
    assert callback(api, oid, "out_for_delivery", minutes=5).body["moved"] is True
    # When the carrier reports a failed attempt (nobody home), then the next day's attempt and the delivery
    failed = callback(api, oid, "exception", minutes=60)
    # Then the attempt becomes the parcel's status and support gets one ticket
    assert (failed.status, failed.body["status"], failed.body["moved"]) == (200, "exception", True)
    assert [t["category"] for t in items(ddb, oid, "TICKET#")] == ["delivery"]
    again = callback(api, oid, "out_for_delivery", event_id="ev_ofd2", minutes=24 * 60)
    assert (again.body["status"], again.body["moved"]) == ("out_for_delivery", True)
    assert callback(api, oid, "delivered", minutes=25 * 60).body["moved"] is True
    assert order_status(api, oid) == "DELIVERED"


def test_the_tracking_route_is_for_the_owner_and_staff_only(api: Api, runtime: Any) -> None:
    oid = shipped_order(api, runtime)
    assert tracking(api, oid).status == 200
    assert tracking(api, oid, user="support-1", groups=("support",)).status == 200
    other = tracking(api, oid, user="user-0002")
    assert (other.status, other.body["code"]) == (404, "ORDER_NOT_FOUND")


def test_an_unset_carrier_secret_is_503(api: Api, runtime: Any) -> None:
    # Given the carriers' secret has no value
    oid = shipped_order(api, runtime)
    put_secret("CarrierSecrets", " ")
    # When a callback arrives / Then the carrier is told to retry later
    response = callback(api, oid, "picked_up")
    assert response.status == 503
    assert response.body["code"] == "WEBHOOK_NOT_CONFIGURED"


def test_the_user_is_notified_once_per_milestone(api: Api, runtime: Any, ddb: Any, notify: Notify) -> None:
    # Given a shipped order whose owner reads e-mail
    body = {"channels": ["email"], "email": "ada@example.com"}
    assert api(api_event("preferences_put_preferences", body=body)).status == 200
    oid = shipped_order(api, runtime)
    notify.drain()
    before = len(notify.emails())
    # When the journey is reported, with retries, a repeated milestone and a late older event
    steps = [
        ("picked_up", "e1", 1),
        ("picked_up", "e1", 1),
        ("in_transit", "e2", 2),
        ("in_transit", "e3", 3),
        ("out_for_delivery", "e4", 4),
        ("delivered", "e5", 5),
        ("in_transit", "e6", 2),
    ]
    for status, event_id, minutes in steps:
        assert callback(api, oid, status, event_id=event_id, minutes=minutes).status == 200
    notify.drain()
    # Then one e-mail per milestone: three tracking ones and the order's own "delivered"
    subjects = [m.subject for m in notify.emails()[before:]]
    assert subjects == [
        f"Order {oid}: parcel picked up",
        f"Order {oid}: parcel in transit",
        f"Order {oid}: out for delivery today",
        f"Order {oid} was delivered",
    ], subjects
