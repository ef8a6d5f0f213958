"""Model-based test of carrier tracking: random callback histories through the real webhook handler.

A hypothesis ``RuleBasedStateMachine`` ships a history's orders with the fake carrier and then lets the carrier
report any milestone for any of them, at any carrier time, in any order, under a small pool of event ids (so ids
repeat: retries and replays, also under another order), while hostile callers send forged, stale, unsigned,
malformed, misaddressed and mismatched callbacks, ops record deliveries and owners confirm receipt. notify reads
the table's stream (the template's filter) and e-mails the owner.

The reference is the rule as docs/fulfilment.md states it: an authentic event is stored once per carrier event
id; it moves the parcel when the parcel has no status yet, or is not delivered and the event is ``delivered``,
or the event is not older than the current milestone and is an ``exception`` or ranks at least as far
(picked_up < in_transit = exception < out_for_delivery < delivered). After every step it checks (``Violations``):

* the parcel's status, time and reached milestones are the reference's, and its rank never went down but to an
  exception;
* one stored tracking event per accepted event id; a duplicate answers 200 ``duplicate`` and writes nothing;
* one milestone item per milestone reached, and exactly one support ticket when ``exception`` was reached;
* the order is DELIVERED (or later) exactly when the carrier or ops delivered it, through one SHIPPED ->
  DELIVERED change that follows the SHIPPED one;
* every milestone (picked_up, in_transit, out_for_delivery, exception) and the delivery e-mailed once, none twice;
* a forged, stale, unsigned, malformed or mismatched callback changes nothing in the order's partition;
* no call answers 5xx, and every answer is one the rule expects.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import (
    initialize,
    invariant,
    precondition,
    rule,
)

from local_stack.runtime import LambdaRuntime
from orders.dal.repos import orders_repository
from orders.lifecycle import Action
from orders.logic import carriers, transitions
from tests.conftest import api_event
from tests.integration.conftest import Api, HttpResult
from tests.integration.helpers import mark_paid, placed
from tests.integration.model_support import Budget, ModelMachine, Tally, run_model
from tests.integration.notify_support import Notify
from tests.integration.test_carrier_tracking import BASE, CARRIER, SECRET

BUDGET = Budget.from_env("CARRIER_MODEL", examples=10, steps=25)
OPS = "ops-carrier-model"
RANK = {"picked_up": 1, "in_transit": 2, "exception": 2, "out_for_delivery": 3, "delivered": 4}
SUBJECTS = {
    "picked_up": "Order {}: parcel picked up",
    "in_transit": "Order {}: parcel in transit",
    "out_for_delivery": "Order {}: out for delivery today",
    "exception": "Order {}: a problem with your parcel",
}
DELIVERED_SUBJECT = "Order {} was delivered"
HOSTILE = ["forged", "stale", "unsigned", "malformed", "wrong tracking number", "unknown carrier", "unknown order"]


@dataclass
class Parcel:
    """The reference: what the carrier's accepted events make of one shipped order."""

    order_id: str
    tracking_number: str
    status: str | None = None
    status_at: datetime | None = None
    reached: list[str] = field(default_factory=list)
    events: int = 0
    order_status: str = "SHIPPED"
    highest_rank: int = 0

    def accept(self, status: str, at: datetime) -> bool:
        if self.status is None or self.status_at is None:
            moves = True
        elif self.status == "delivered":
            moves = False
        elif status == "delivered":
            moves = True
        else:
            moves = at >= self.status_at and (status == "exception" or RANK[status] >= RANK[self.status])
        self.events += 1
        if moves:
            self.status, self.status_at = status, at
            if status not in self.reached:
                self.reached.append(status)
            if status == "delivered" and self.order_status == "SHIPPED":
                self.order_status = "DELIVERED"
        return moves


@dataclass
class World(Tally):
    api: Api
    runtime: LambdaRuntime
    notify: Notify
    ddb: Any


class CarrierMachine(ModelMachine[World]):
    def __init__(self) -> None:
        super().__init__()
        self.user = f"track-{self.tag}"
        self.email = f"{self.user}@example.com"
        self.parcels: list[Parcel] = []
        self.seen: dict[str, Parcel] = {}  # accepted event id -> the parcel it was stored under
        self.sent: list[tuple[str, str]] = []  # (order id, body) of authentic callbacks, for replays

    # --- plumbing ------------------------------------------------------------------------------
    def call(self, event: dict[str, Any], expect: tuple[int, ...], what: str) -> HttpResult:
        result = self.w.api(event)
        self.w.coverage[f"{what} {result.status}"] += 1
        assert result.status < 500, f"[server_error] {what} answered {result.status}: {result.body}"
        assert result.status in expect, f"[unexpected_answer] {what} answered {result.status}: {result.body}"
        return result

    def post(
        self,
        body: str,
        expect: tuple[int, ...],
        what: str,
        *,
        secret: str = SECRET,
        signed_at: int | None = None,
        carrier: str = CARRIER,
        header: str | None = None,
    ) -> HttpResult:
        if header is None:
            header = carriers.sign(secret, signed_at if signed_at is not None else int(time.time()), body.encode())
        event = api_event(
            "carrier_tracking_carrier_webhook",
            raw_body=body,
            path_params={"carrier": carrier},
            headers={carriers.SIGNATURE_HEADER: header},
        )
        if not header:
            event["headers"].pop(carriers.SIGNATURE_HEADER)
            event["multiValueHeaders"].pop(carriers.SIGNATURE_HEADER)
        return self.call(event, expect, what)

    def body(self, parcel: Parcel, status: str, event_id: str, minute: int, tracking: str | None = None) -> str:
        return json.dumps(
            {
                "event_id": event_id,
                "reference": parcel.order_id,
                "tracking_number": tracking or parcel.tracking_number,
                "status": status,
                "occurred_at": (BASE + timedelta(minutes=minute)).isoformat(),
                "location": "Leipzig hub",
            }
        )

    def partition(self, order_id: str) -> list[dict[str, Any]]:
        from orders.dal.dynamo import from_item

        response = self.w.ddb.query(
            TableName="OrdersTable",
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": {"S": f"ORDER#{order_id}"}},
            ConsistentRead=True,
        )
        assert "LastEvaluatedKey" not in response
        return [from_item(item) for item in response["Items"]]

    # --- rules ---------------------------------------------------------------------------------
    @initialize(orders=st.integers(1, 2))
    def shipped_orders(self, orders: int) -> None:
        """A user who reads e-mail, and their physical orders shipped with the fake carrier."""
        prefs = {"channels": ["email"], "email": self.email}
        self.call(api_event("preferences_put_preferences", user=self.user, body=prefs), (200,), "preferences")
        for n in range(orders):
            self.ship_one(n)

    def ship_one(self, n: int) -> None:
        oid = placed(self.w.api, user=self.user)["order_id"]
        mark_paid(self.w.runtime, oid)
        transitions.change(orders_repository(), oid, Action.START_FULFILMENT, actor="test:fulfilment")
        tracking = f"TN{self.tag}{n}".upper()
        body = {"carrier": CARRIER, "tracking_number": tracking}
        path = {"order_id": oid}
        self.call(api_event("shipping_ship", user=OPS, groups=("ops",), path_params=path, body=body), (200,), "ship")
        self.parcels.append(Parcel(oid, tracking))

    @rule(
        index=st.integers(0, 9),
        status=st.sampled_from(sorted(RANK)),
        event=st.integers(0, 5),
        minute=st.integers(0, 30),
    )
    def carrier_reports(self, index: int, status: str, event: int, minute: int) -> None:
        """Any milestone, any order, any carrier time; event ids come from a small pool, so some repeat."""
        parcel = self.parcels[index % len(self.parcels)]
        event_id = f"ev-{self.tag}-{event}"
        body = self.body(parcel, status, event_id, minute)
        result = self.post(body, (200,), f"callback {status}")
        self.sent.append((parcel.order_id, body))
        if event_id in self.seen:
            assert result.body["duplicate"] is True, f"[duplicate_stored] {event_id}: {result.body}"
            assert result.body["moved"] is False, result.body
            return
        self.seen[event_id] = parcel
        moved = parcel.accept(status, BASE + timedelta(minutes=minute))
        got = (result.body["duplicate"], result.body["moved"], result.body["status"])
        assert got == (False, moved, parcel.status), f"[ack] {status}@{minute}: answered {got}, expected {parcel}"

    @precondition(lambda self: self.sent)
    @rule(index=st.integers(0, 99), resign=st.booleans())
    def carrier_retries(self, index: int, resign: bool) -> None:
        """A callback sent again (the carrier's retry), signed then or re-signed now: acknowledged, nothing new."""
        _, body = self.sent[index % len(self.sent)]
        signed_at = int(time.time()) - (0 if resign else 60)
        result = self.post(body, (200,), "retry", signed_at=signed_at)
        assert result.body["duplicate"] is True, f"[replay_stored] {result.body}"

    @rule(index=st.integers(0, 9), hostile=st.sampled_from(HOSTILE), status=st.sampled_from(sorted(RANK)))
    def someone_sends_a_hostile_callback(self, index: int, hostile: str, status: str) -> None:
        parcel = self.parcels[index % len(self.parcels)]
        before = self.partition(parcel.order_id)
        event_id = f"hostile-{self.tag}-{uuid.uuid4().hex[:6]}"
        body = self.body(parcel, status, event_id, 29)
        if hostile == "forged":
            self.post(body, (401,), hostile, secret="not-the-carriers-secret")
        elif hostile == "stale":
            self.post(body, (401,), hostile, signed_at=int(time.time()) - 3600)
        elif hostile == "unsigned":
            self.post(body, (400,), hostile, header="")
        elif hostile == "malformed":
            self.post(body.replace('"status"', '"state"'), (400,), hostile)
        elif hostile == "wrong tracking number":
            self.post(self.body(parcel, status, event_id, 29, tracking="OTHER1"), (409,), hostile)
        elif hostile == "unknown carrier":
            self.post(body, (404,), hostile, carrier="nobody")
        else:
            self.post(body.replace(parcel.order_id, f"ord_nope{self.tag}"), (404,), hostile)
        after = self.partition(parcel.order_id)
        assert after == before, f"[hostile_changed_something] {hostile}: {len(before)} items, then {len(after)}"

    @rule(index=st.integers(0, 9))
    def ops_record_delivery(self, index: int) -> None:
        parcel = self.parcels[index % len(self.parcels)]
        expect = (200,) if parcel.order_status == "SHIPPED" else (409,)
        path = {"order_id": parcel.order_id}
        self.call(api_event("shipping_deliver", user=OPS, groups=("ops",), path_params=path), expect, "ops deliver")
        if parcel.order_status == "SHIPPED":
            parcel.order_status = "DELIVERED"

    @rule(index=st.integers(0, 9))
    def owner_confirms_receipt(self, index: int) -> None:
        parcel = self.parcels[index % len(self.parcels)]
        expect = (200,) if parcel.order_status == "DELIVERED" else (409,)
        path = {"order_id": parcel.order_id}
        self.call(api_event("shipping_confirm_receipt", user=self.user, path_params=path), expect, "confirm")
        if parcel.order_status == "DELIVERED":
            parcel.order_status = "COMPLETED"

    # --- invariants ------------------------------------------------------------------------------
    @invariant()
    def parcels_follow_the_rule(self) -> None:
        self.w.notify.drain()
        self.w.steps += 1
        emails = Counter(m.subject for m in self.w.notify.emails() if self.email in m.destinations["ToAddresses"])
        for parcel in self.parcels:
            self.check_parcel(parcel, emails)

    def check_parcel(self, parcel: Parcel, emails: Counter[str]) -> None:
        oid = parcel.order_id
        items = self.partition(oid)
        state = next((i for i in items if i["SK"] == "TRACKING"), None)
        got = (state["status"], state["reached"]) if state else (None, [])
        assert got == (parcel.status, parcel.reached), f"[tracking_state] {oid}: stored {got}, rule says {parcel}"
        if state is not None:
            rank = RANK[state["status"]]
            went_back = rank < parcel.highest_rank and state["status"] != "exception"
            assert not went_back, f"[went_backwards] {oid}: {state['status']} after rank {parcel.highest_rank}"
            parcel.highest_rank = rank
        events = [i for i in items if i["SK"].startswith("TRACKEVENT#")]
        assert len(events) == parcel.events, f"[events_stored] {oid}: {len(events)} stored, {parcel.events} accepted"
        milestones = sorted(i["SK"].rsplit("#", 1)[1] for i in items if i["SK"].startswith("TRACKING#MILESTONE#"))
        assert milestones == sorted(parcel.reached), f"[milestones] {oid}: {milestones} for {parcel.reached}"
        tickets = [i for i in items if i["SK"].startswith("TICKET#")]
        expected_tickets = 1 if "exception" in parcel.reached else 0
        assert len(tickets) == expected_tickets, f"[tickets] {oid}: {len(tickets)} for {parcel.reached}"
        order = next(i for i in items if i["SK"] == "#ORDER")
        assert order["status"] == parcel.order_status, f"[order_status] {oid}: {order['status']}, {parcel}"
        changes = [i["to_status"] for i in sorted(items, key=lambda i: i.get("version", 0)) if i.get("to_status")]
        delivered = [n for n, status in enumerate(changes) if status == "DELIVERED"]
        if parcel.order_status in ("DELIVERED", "COMPLETED"):
            assert len(delivered) == 1 and changes[delivered[0] - 1] == "SHIPPED", f"[delivery_change] {changes}"
        else:
            assert not delivered, f"[delivery_change] {oid}: {changes}"
        for status, subject in SUBJECTS.items():
            sent = emails[subject.format(oid)]
            assert sent == (1 if status in parcel.reached else 0), f"[milestone_mail] {oid} {status}: {sent} sent"
        sent = emails[DELIVERED_SUBJECT.format(oid)]
        expected = 1 if parcel.order_status in ("DELIVERED", "COMPLETED") else 0
        assert sent == expected, f"[delivered_mail] {oid}: {sent} sent"
        for subject, count in emails.items():
            assert count == 1, f"[mail_twice] {subject!r} sent {count} times"

    def teardown(self) -> None:
        for parcel in self.parcels:
            self.w.coverage[f"parcel {parcel.status} / order {parcel.order_status}"] += 1


def test_random_carrier_histories_never_go_backwards(
    api: Api, runtime: LambdaRuntime, notify: Notify, ddb: Any
) -> None:
    w = World(api, runtime, notify, ddb)
    try:
        run_model(CarrierMachine, BUDGET, w)
    finally:
        w.report("carrier")
