"""Sharded index partitions (keys.QUEUE_SHARDS, keys.DAY_SHARDS): readers merge every shard exactly."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from orders.dal import keys, queues
from orders.dal.reports import ReportsRepository
from orders.errors import InvalidCursor
from orders.models.common import format_ts

T0 = datetime(2026, 11, 11, 0, 0, tzinfo=UTC)


def put_queued(ddb: Any, partition: str, due: datetime, item_id: str) -> str:
    sk = keys.queue_sk(format_ts(due), item_id)
    ddb.put_item(
        TableName="OrdersTable",
        Item={
            "PK": {"S": keys.order_pk(item_id)},
            "SK": {"S": keys.ORDER_SK},
            keys.QUEUE_PK: {"S": partition},
            keys.QUEUE_SK: {"S": sk},
            "order_id": {"S": item_id},
        },
    )
    return sk


@pytest.fixture
def queued(ddb: Any) -> list[str]:
    """60 orders waiting to be paid, spread over the shards by their id, due in a shuffled order,
    plus 3 written before sharding (the legacy unsharded key)."""
    rng = random.Random(7)
    minutes = list(range(60))
    rng.shuffle(minutes)
    sks = []
    for n, minute in enumerate(minutes):
        oid = f"ord-{n:03d}"
        shard = keys.sharded_queue_pk("ORDER", "PENDING_PAYMENT", oid)
        sks.append(put_queued(ddb, shard, T0 + timedelta(minutes=minute), oid))
    for n in range(3):
        legacy = keys.queue_pk("ORDER", "PENDING_PAYMENT")
        sks.append(put_queued(ddb, legacy, T0 + timedelta(seconds=90 + 60 * n), f"old-{n}"))
    return sorted(sks)


def test_the_merged_queue_is_oldest_due_first_across_every_shard_and_the_legacy_key(
    ddb: Any, queued: list[str]
) -> None:
    # Given 63 queued orders in many shards (and the old unsharded partition)
    partitions = keys.queue_partitions("ORDER", "PENDING_PAYMENT")
    assert len({keys.sharded_queue_pk("ORDER", "PENDING_PAYMENT", f"ord-{n:03d}") for n in range(60)}) > 10
    # When the first 10 due at or before minute 30 are read
    items = queues.query_queue(ddb, "OrdersTable", partitions, T0 + timedelta(minutes=30), 10)
    # Then they are exactly the 10 due first overall, in due order
    assert [item[keys.QUEUE_SK]["S"] for item in items] == queued[:10]
    # And the window's bound holds across shards: everything due by minute 30, nothing after
    everything = queues.query_queue(ddb, "OrdersTable", partitions, T0 + timedelta(minutes=30), 1000)
    bound = format_ts(T0 + timedelta(minutes=30)) + "#~"
    assert [item[keys.QUEUE_SK]["S"] for item in everything] == [sk for sk in queued if sk <= bound]


def test_cursor_pages_walk_every_shard_once_in_order(ddb: Any, queued: list[str]) -> None:
    # Given the sharded queue
    base = keys.queue_pk("ORDER", "PENDING_PAYMENT")
    partitions = keys.queue_partitions("ORDER", "PENDING_PAYMENT")
    seen: list[str] = []
    token: str | None = None
    pages = 0
    # When it is read 7 at a time through the opaque cursor
    while True:
        after = queues.decode_cursor(token, base) if token else None
        items, more = queues.query_queue_page(ddb, "OrdersTable", partitions, None, 7, after)
        seen += [item[keys.QUEUE_SK]["S"] for item in items]
        pages += 1
        if not more:
            break
        token = queues.encode_cursor(base, items[-1])
    # Then every item comes once, in due order, in ceil(63 / 7) pages
    assert seen == queued
    assert pages == 9
    # And a cursor of another queue is refused
    token = queues.encode_cursor(base, {keys.QUEUE_SK: {"S": queued[0]}})
    with pytest.raises(InvalidCursor):
        queues.decode_cursor(token, keys.queue_pk("TICKET", "OPEN"))


def test_a_report_window_reads_every_shard_of_the_day_exactly(ddb: Any) -> None:
    # Given 40 orders created over one day, each in its day shard, and one under the legacy day key
    created: list[tuple[str, str]] = []
    for n in range(40):
        oid, at = f"ord-{n:03d}", format_ts(T0 + timedelta(minutes=37 * n))
        day = at[:10]
        for pk in (keys.sharded_created_day_pk(day, oid),) if n != 5 else (keys.created_day_pk(day),):
            ddb.put_item(
                TableName="OrdersTable",
                Item={
                    "PK": {"S": keys.order_pk(oid)},
                    "SK": {"S": keys.ORDER_SK},
                    "GSI4PK": {"S": pk},
                    "GSI4SK": {"S": keys.created_sk(at, oid)},
                },
            )
        created.append((at, oid))
    # When the report asks for a window inside the day
    start, end = T0 + timedelta(hours=3), T0 + timedelta(hours=15)
    found = ReportsRepository("OrdersTable", ddb).orders_created_between(start, end, limit=1000)
    # Then it gets exactly the orders created in the window, oldest first
    assert found == [oid for at, oid in sorted(created) if format_ts(start) <= at <= format_ts(end)]
    assert "ord-005" in found
