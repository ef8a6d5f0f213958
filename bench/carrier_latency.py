"""Time from a carrier callback to the user's notification, on the local stack (in-process, over HTTP).

A local stack is started with the fake carrier in its fast mode (``FAKE_CARRIER_STEP_SECONDS``, default
0.3 s here); ``--parcels`` physical orders are placed, paid through the fake Stripe and shipped with
``fakecarrier``. The fake carrier then calls back, signed, at each milestone (picked_up, in_transit,
out_for_delivery, delivered). For every milestone notification we take the carrier's event time (the fake
carrier stamps ``occurred_at`` as it hands the callback to the webhook outbox) and the NOTIFICATION
item's ``at`` (stamped when SES accepted the e-mail): the whole path outbox → API Gateway → the
carrier-tracking function (verify, transaction) → OrdersTable stream → notify → SES. The delivered
milestone is told by the order's own DELIVERED change (order.delivered), so it includes the transition.

    .venv/bin/python bench/carrier_latency.py [--parcels 5] [--step 1]

Prints one JSON document (p50/p95/max in ms). Reports; never fails on timing. Keep runs short.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "shared"), str(ROOT)]

MILESTONE_EVENTS = {
    "tracking.picked_up": "picked_up",
    "tracking.in_transit": "in_transit",
    "tracking.out_for_delivery": "out_for_delivery",
    "order.delivered": "delivered",
}


def _instant(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))], 1) if ordered else 0.0


def measure(parcels: int, step: float) -> dict[str, Any]:
    os.environ["FAKE_CARRIER_STEP_SECONDS"] = str(step)
    from local_stack.demo import Demo, order_status, pay, wait_for
    from local_stack.stack import LocalStack

    address = {"name": "Ada", "line1": "1 Row", "city": "London", "postal_code": "N1", "country": "GB"}
    latencies: dict[str, list[float]] = {event: [] for event in MILESTONE_EVENTS}
    with LocalStack(port=0) as stack:
        demo = Demo(stack.url)
        demo.call("PUT", "/me/preferences", as_user="client", json={"channels": ["email"], "email": "c@example.com"})
        for n in range(parcels):
            # One parcel at a time: the path is measured unloaded (placing the next order would compete).
            body = {"items": [{"sku": "hoodie-logo-l", "quantity": 1}], "shipping_address": address}
            demo.state["order"] = demo.call("POST", "/orders", as_user="client", json=body, expect=201)
            pay(demo)
            order = order_status(demo, "order", "PENDING_SHIPMENT")
            order_id = order["order_id"]
            shipment = {"carrier": "fakecarrier", "tracking_number": f"FCBENCH{n:04d}{int(time.time())}"}
            demo.call("POST", f"/orders/{order_id}/shipments", as_user="ops", groups=("ops",), json=shipment)

            def all_told(oid: str = order_id) -> list[dict[str, Any]] | None:
                items: list[dict[str, Any]] = demo.call("GET", f"/_local/notifications?order_id={oid}")["items"]
                return items if set(MILESTONE_EVENTS) <= {i["event"] for i in items} else None

            items = wait_for(demo, f"{order_id}'s milestone notifications", all_told, timeout=60)
            tracking = demo.call("GET", f"/orders/{order_id}/tracking", as_user="client")
            first: dict[str, str] = {}
            for event in tracking["events"]:
                first.setdefault(event["status"], event["occurred_at"])
            for item in items:
                status = MILESTONE_EVENTS.get(item["event"])
                if status and status in first:
                    latencies[item["event"]].append((_instant(item["at"]) - _instant(first[status])) * 1000)
    every = [value for values in latencies.values() for value in values]
    return {
        "what": "carrier callback (fake carrier's event time) → milestone notification accepted by SES, ms",
        "parcels": parcels,
        "step_seconds": step,
        "samples": len(every),
        "p50_ms": _percentile(every, 0.5),
        "p95_ms": _percentile(every, 0.95),
        "max_ms": round(max(every), 1) if every else 0.0,
        "mean_ms": round(statistics.fmean(every), 1) if every else 0.0,
        "by_event_p50_ms": {event: _percentile(values, 0.5) for event, values in latencies.items()},
    }


def main() -> int:
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parcels", type=int, default=5)
    parser.add_argument("--step", type=float, default=1.0)
    args = parser.parse_args()
    print(json.dumps(measure(max(1, min(args.parcels, 50)), args.step), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
