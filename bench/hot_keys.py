"""Hot partition keys at peak: replay a peak second through the REAL key functions, old design and sharded.

    .venv/bin/python -m bench.hot_keys [--orders-per-second 10000]

Pure computation, no AWS: for one second at the peak rate it generates order ids, asks
``orders.dal.keys`` (and, for "before", the unsharded key functions the old design used) for the
index partition each write and read lands on, and sums capacity units per partition. It reports, per
index and partition key, the highest write and read units per second.

Load model (per second at the peak, DynamoDB rules: 1 WCU per started KB written to an index, each
index write counted on the index's partition; GSI reads are eventually consistent, ½ RCU per 4 KB):
- every order is created (GSI3 PENDING_PAYMENT put, GSI4 day put) and paid (GSI3 delete) within the
  peak: 2 GSI3 writes of an order item (ALL projection, ~1.5 KB: 2 WCU each) and 1 GSI4 key (1 WCU);
- 30% are physical; deliveries and completions run at the same rate (a steady state at the peak):
  GSI3 DELIVERED put + delete (2 x 2 WCU);
- support tickets for 2% of orders: GSI3 TICKET#OPEN put + delete (1 KB items: 1 WCU each);
- refund requests for 1% of orders: GSI3 REFUND#PENDING_REVIEW put + delete (1 WCU each; not sharded);
- reads: the expiry job drains unpaid orders (10% of orders, 1.5 KB each) every minute, the delivered
  queue the same way, and the report reads the peak hour's GSI4 keys (~100 B each) within 60 s.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "shared"), str(ROOT)]

from orders.dal import keys  # noqa: E402

WCU_LIMIT, RCU_LIMIT = 1000, 3000
ORDER_ITEM_KB, TICKET_ITEM_KB, KEY_ITEM_BYTES = 1.5, 1.0, 100
PHYSICAL, TICKETS, UNPAID, REFUNDS = 0.30, 0.02, 0.10, 0.01
DAY = "2026-11-11"


def _old(kind: str, status: str, _id: str) -> str:
    return keys.queue_pk(kind, status)


def _old_day(day: str, _id: str) -> str:
    return keys.created_day_pk(day)


def simulate(rate: int, *, sharded: bool, seed: int = 11) -> dict[str, Any]:
    rng = random.Random(seed)  # noqa: S311 - a reproducible load, not a secret
    queue = keys.sharded_queue_pk if sharded else _old
    day_pk = keys.sharded_created_day_pk if sharded else _old_day
    writes: dict[str, Counter[str]] = defaultdict(Counter)
    reads: dict[str, Counter[str]] = defaultdict(Counter)  # bytes read per partition
    order_wcu = math.ceil(ORDER_ITEM_KB)
    for _ in range(rate):
        oid = f"ord_{rng.getrandbits(64):016x}"
        writes["GSI3"][queue("ORDER", "PENDING_PAYMENT", oid)] += 2 * order_wcu  # put at create, delete at pay
        writes["GSI4"][day_pk(DAY, oid)] += 1  # KEYS_ONLY, written once
        if rng.random() < PHYSICAL:
            writes["GSI3"][queue("ORDER", "DELIVERED", oid)] += 2 * order_wcu
        if rng.random() < TICKETS:
            writes["GSI3"][queue("TICKET", "OPEN", f"tkt-{oid}-1")] += 2 * math.ceil(TICKET_ITEM_KB)
        if rng.random() < REFUNDS:  # the review queue is written by the state machine: one key in both designs
            writes["GSI3"][keys.REFUND_REVIEW_QUEUE] += 2
        if rng.random() < UNPAID:  # drained by the expiry job: read once from its queue partition
            reads["GSI3"][queue("ORDER", "PENDING_PAYMENT", oid)] += int(ORDER_ITEM_KB * 1024)
        # the report reads each key of the peak hour once, within 60 s: 60 s of orders per second of reading
        reads["GSI4"][day_pk(DAY, oid)] += 60 * KEY_ITEM_BYTES
    result: dict[str, Any] = {}
    for index in sorted(set(writes) | set(reads)):
        rcu = {pk: b / 4096 / 2 for pk, b in reads[index].items()}
        partitions = set(writes[index]) | set(rcu)
        hottest_w = max(writes[index].items(), key=lambda kv: kv[1], default=("-", 0))
        hottest_r = max(rcu.items(), key=lambda kv: kv[1], default=("-", 0.0))
        result[index] = {
            "partitions": len(partitions),
            "wcu_total": sum(writes[index].values()),
            "max_wcu": hottest_w[1],
            "max_wcu_key": hottest_w[0],
            "max_rcu": round(hottest_r[1], 1),
            "max_rcu_key": hottest_r[0],
        }
    return result


def run(rate: int = 10_000) -> dict[str, Any]:
    started = time.time()
    before, after = simulate(rate, sharded=False), simulate(rate, sharded=True)
    worst_w = max(v["max_wcu"] for v in after.values())
    worst_r = max(v["max_rcu"] for v in after.values())
    return {
        "at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "seconds": round(time.time() - started, 1),
        "orders_per_second": rate,
        "shards": {"queue": keys.QUEUE_SHARDS, "day": keys.DAY_SHARDS},
        "before": before,
        "after": after,
        "goal_met": worst_w <= WCU_LIMIT / 2 and worst_r <= RCU_LIMIT / 2,
    }


def section(r: dict[str, Any]) -> list[str]:
    lines = [
        "## 9. Hot partition keys at peak (sharding)",
        "",
        f"Command: `.venv/bin/python -m bench.hot_keys --orders-per-second {r['orders_per_second']}` — "
        f"{r['at']}, {r['seconds']} s. One peak second replayed through `orders.dal.keys` "
        "(load model in bench/hot_keys.py's docstring); before = the unsharded keys, after = "
        f"the sharded ones (queue shards {r['shards']['queue']}, day shards {r['shards']['day']}).",
        "",
        "| index | design | partitions | WCU/s total | hottest partition WCU/s | % of 1,000 | its key "
        "| hottest partition RCU/s | % of 3,000 | its key |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | --- |",
    ]
    for design in ("before", "after"):
        for index, v in r[design].items():
            lines.append(
                f"| {index} | {design} | {v['partitions']} | {v['wcu_total']:,} | {v['max_wcu']:,} | "
                f"{100 * v['max_wcu'] / WCU_LIMIT:.0f}% | `{v['max_wcu_key']}` | {v['max_rcu']:,} | "
                f"{100 * v['max_rcu'] / RCU_LIMIT:.0f}% | `{v['max_rcu_key']}` |"
            )
    verdict = "met" if r["goal_met"] else "NOT met"
    lines += [
        "",
        f"Target: no partition above 50% of DynamoDB's per-partition limits at {r['orders_per_second']:,} "
        f"orders/s — **{verdict}**. Table partitions (`ORDER#<id>`) take a few WCU per order per second at "
        "most and are not shown; the refund review and payment reconciliation queues are not sharded "
        "(docs/capacity.md).",
        "",
    ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders-per-second", type=int, default=10_000)
    args = parser.parse_args()
    r = run(args.orders_per_second)
    out = ROOT / "build" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "hot_keys.json").write_text(json.dumps(r, indent=2))
    print("\n".join(section(r)))


if __name__ == "__main__":
    main()
