"""Query cost against table size: one user's filtered order page at 1k, 10k and 100k orders in the table.

The table (moto, in process) is filled with orders of many users (batch_write_item of
``orders.dal.orders.order_record`` items); one user has 200 orders spread over statuses and a year.
Then the real OrdersFunction handler answers ``GET /orders?status=COMPLETED&from=..&to=..&limit=20``
(and the next page through its cursor); the botocore hooks (bench/awscalls.py) count what DynamoDB
read: items returned and ScannedCount, and the page's read capacity. Target: items read per page
independent of the table's size. Latency is moto's, not DynamoDB's: moto evaluates a Query by walking
the index partition in Python, so its time is reported but says little about AWS.

    .venv/bin/python -m bench.query_scale [--sizes 1000 10000 100000] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "shared"), str(ROOT)]

from bench.awscalls import Recorder  # noqa: E402
from bench.inprocess import in_process_stack, query_event  # noqa: E402

USER = "bench-user"
USER_ORDERS = 200
STATUSES = ["COMPLETED", "PENDING_SHIPMENT", "SHIPPED", "CANCELLED", "REFUNDED"]
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)


def order_item(n: int, user: str, status: str) -> dict[str, Any]:
    from orders.dal.orders import order_record
    from orders.models.order import Order

    created = EPOCH + timedelta(minutes=n * 7)
    order = Order.model_validate(
        {
            "order_id": f"ord_{n:032x}",
            "user_id": user,
            "status": status,
            "items": [
                {
                    "sku": "mug-classic",
                    "name": "Classic mug",
                    "kind": "physical",
                    "quantity": 1,
                    "unit_price": 1500,
                    "line_total": 1500,
                }
            ],
            "currency": "USD",
            "subtotal": 1500,
            "shipping_fee": 500,
            "total": 2000,
            "created_at": created,
            "updated_at": created,
            "version": 3,
        }
    )
    return order_record(order)


def fill(ddb: Any, start: int, stop: int) -> None:
    """Orders start..stop-1: every 5th of the first 1,000 is the bench user's, the rest belong to 5,000 others."""
    batch: list[dict[str, Any]] = []
    for n in range(start, stop):
        mine = n % 5 == 0 and n // 5 < USER_ORDERS
        user = USER if mine else f"user-{n % 5000:05d}"
        status = STATUSES[(n // 5 if mine else n) % len(STATUSES)]
        batch.append({"PutRequest": {"Item": order_item(n, user, status)}})
        if len(batch) == 25 or n == stop - 1:
            request: dict[str, Any] = {"OrdersTable": batch}
            while request:
                request = ddb.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
            batch = []


def page_event(cursor: str | None = None) -> dict[str, Any]:
    query = {"status": "COMPLETED", "from": "2025-01-01T00:00:00Z", "to": "2026-12-31T00:00:00Z", "limit": "20"}
    event = query_event("orders_list_orders", query | ({"cursor": cursor} if cursor else {}))
    event["requestContext"]["authorizer"]["claims"]["sub"] = USER
    return event


def run(sizes: list[int], repeats: int = 5) -> dict[str, Any]:
    from orders.dal.dynamo import dynamodb_client

    recorder = Recorder()
    recorder.install()
    # A client made earlier in this process (by another harness or test) carries no hooks: the handler
    # gets a new one, made with them.
    dynamodb_client.cache_clear()
    results: list[dict[str, Any]] = []
    with in_process_stack() as (ddb, runtime), _uninstalled(recorder):
        loaded = 0
        for size in sorted(sizes):
            started = time.perf_counter()
            fill(ddb, loaded, size)
            load_seconds = time.perf_counter() - started
            loaded = size
            pages: list[dict[str, Any]] = []
            for _ in range(repeats):
                cursor = None
                for page_no in (1, 2):
                    with recorder.invocation("OrdersFunction", f"page {page_no}") as inv:
                        began = time.perf_counter()
                        response = runtime.invoke("OrdersFunction", page_event(cursor))
                        ms = (time.perf_counter() - began) * 1000
                    body = json.loads(response["body"])
                    assert response["statusCode"] == 200, body
                    cursor = body.get("next_cursor")
                    pages.append(
                        {
                            "page": page_no,
                            "ms": ms,
                            "returned": len(body["items"]),
                            "calls": len(inv.calls),
                            "items_read": sum(c.items_read for c in inv.calls),
                            "scanned": sum(c.scanned for c in inv.calls),
                            "rcu": sum(c.rcu for c in inv.calls),
                        }
                    )
            first = [p for p in pages if p["page"] == 1]
            results.append(
                {
                    "orders_in_table": size,
                    "load_seconds": round(load_seconds, 1),
                    "page_items_returned": first[0]["returned"],
                    "calls_per_page": max(p["calls"] for p in pages),
                    "items_read_per_page": max(p["items_read"] for p in pages),
                    "scanned_per_page": max(p["scanned"] for p in pages),
                    "rcu_per_page": max(p["rcu"] for p in pages),
                    "median_ms_page1_moto": round(statistics.median(p["ms"] for p in first), 1),
                    "median_ms_page2_moto": round(statistics.median(p["ms"] for p in pages if p["page"] == 2), 1),
                }
            )
    scanned = {r["scanned_per_page"] for r in results}
    return {
        "query": "GET /orders?status=COMPLETED&from=2025-01-01&to=2026-12-31&limit=20 (user with 200 orders)",
        "results": results,
        "target_met": len(scanned) == 1,
    }


@contextmanager
def _uninstalled(recorder: Recorder) -> Iterator[None]:
    try:
        yield
    finally:
        recorder.uninstall()
        from orders.dal.dynamo import dynamodb_client

        dynamodb_client.cache_clear()  # the hooked client stays out of whatever runs next


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    out = run(args.sizes)
    print(out["query"])
    for r in out["results"]:
        print(r)
    print("items read per page independent of table size:", out["target_met"])
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
