"""Measure the local stack itself: restoring a saved state, and stream delivery latency.

    .venv/bin/python -m local_stack.measure restore [--orders 10000]
    .venv/bin/python -m local_stack.measure streams [--writes 200] [--old]

``restore``: a real order is placed and paid through the API (so its items are what the product
writes: order, timeline, ledger, notify's outbox...), the state saved, and its OrdersTable items
cloned under new order ids until there are ``--orders`` orders; then a stack is started on that
state. Reports the items restored, the restore time, the start-up time against an empty start,
the time of one save, and checks a cloned order is served.

``streams``: items are written to OrdersTable one by one (20 ms apart) while a consumer is fed by
a StreamPoller as the local stack runs it (woken by moto on every stream record, 0.5 s fallback);
reports the time from each write to its delivery (p50/p95). ``--old`` polls every 50 ms without
being woken, as the local stack did before.

Prints one JSON document; keep runs short (the machine may be shared).
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import requests


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))], 2) if ordered else 0.0


def restore(orders: int) -> dict[str, Any]:
    from local_stack.auth import issue_token
    from local_stack.demo import Demo, browse, pay
    from local_stack.stack import LocalStack

    state = Path(tempfile.mkdtemp(prefix="local-state-"))
    with LocalStack(port=0, state_dir=state) as stack:
        empty_start = stack.startup_seconds
        demo = Demo(stack.url)
        browse(demo)
        created = demo.call(
            "POST", "/orders", as_user="client", json={"items": [{"sku": "coins-500", "quantity": 1}]}, expect=201
        )
        demo.state["order"] = created
        pay(demo)
        time.sleep(2)  # the stream consumers (grant, notify) finish their writes
        user = demo.user("client")
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()  # the next stack starts on an empty moto, as a new process would
    template_id = created["order_id"]
    path = state / "dynamodb" / "OrdersTable.jsonl"
    lines = path.read_text().splitlines()
    own = [line for line in lines if template_id in line]
    clones: list[str] = []
    new_id = template_id
    for _ in range(orders - 1):
        new_id = f"ord_{uuid.uuid4().hex}"
        clones.extend(line.replace(template_id, new_id) for line in own)
    path.write_text("\n".join(lines + clones) + "\n")
    items = len(lines) + len(clones)

    with LocalStack(port=0, state_dir=state) as stack:
        restored = dict(stack.restored)
        startup = stack.startup_seconds
        sample = new_id
        served = requests.get(
            f"{stack.url}/orders/{sample}", headers={"Authorization": f"Bearer {issue_token(user)}"}, timeout=30
        )
        began = time.perf_counter()
        stack.save_state()
        save_seconds = time.perf_counter() - began
    return {
        "orders": orders,
        "items_per_order": len(own),
        "items_in_state": items,
        "items_restored": restored.get("items"),
        "restore_seconds": round(restored.get("seconds", 0.0), 2),
        "restore_cpu_seconds": round(restored.get("cpu_seconds", 0.0), 2),
        "reviews_rearmed": restored.get("reviews", 0),
        "startup_seconds_with_state": round(startup, 2),
        "startup_seconds_empty": round(empty_start, 2),
        "save_seconds": round(save_seconds, 2),
        "cloned_order_served": served.status_code,
    }


def streams(writes: int, old: bool) -> dict[str, Any]:
    from local_stack.moto_patches import on_stream_record
    from local_stack.stack import LocalStack
    from local_stack.streams import StreamPoller

    received: dict[str, float] = {}
    done = threading.Event()

    def consumer(event: dict[str, Any]) -> None:
        now = time.perf_counter()
        for record in event["Records"]:
            received[record["dynamodb"]["Keys"]["PK"]["S"]] = now
        if len(received) >= writes:
            done.set()

    with LocalStack(port=0, serve_api=False) as stack:
        assert stack.created is not None
        table = stack.created.tables["OrdersTable"]
        ddb = stack.client("dynamodb")
        arn = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
        poller = StreamPoller(
            stack.client("dynamodbstreams"),
            arn,
            consumer,
            starting_position="LATEST",
            poll_interval=0.05 if old else 0.5,
        ).start()
        undo = on_stream_record(lambda: None) if old else on_stream_record(poller.wake)
        written: dict[str, float] = {}
        for i in range(writes):
            key = f"MEASURE#{i}"
            written[key] = time.perf_counter()
            ddb.put_item(TableName=table, Item={"PK": {"S": key}, "SK": {"S": "#"}, "type": {"S": "MEASURE"}})
            time.sleep(0.02)
        done.wait(30)
        undo()
        poller.stop()
    latencies = [(received[k] - written[k]) * 1000 for k in written if k in received]
    return {
        "mode": "poll every 50 ms (before)" if old else "woken by moto, 0.5 s fallback (after)",
        "writes": writes,
        "delivered": len(latencies),
        "latency_ms": {
            "p50": _percentile(latencies, 0.5),
            "p95": _percentile(latencies, 0.95),
            "mean": round(statistics.fmean(latencies), 2) if latencies else 0.0,
        },
    }


def main() -> int:
    logging.basicConfig(level=logging.WARNING)
    parser = argparse.ArgumentParser(prog="python -m local_stack.measure", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    r = sub.add_parser("restore")
    r.add_argument("--orders", type=int, default=10_000)
    s = sub.add_parser("streams")
    s.add_argument("--writes", type=int, default=200)
    s.add_argument("--old", action="store_true")
    args = parser.parse_args()
    result = restore(args.orders) if args.what == "restore" else streams(args.writes, args.old)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
