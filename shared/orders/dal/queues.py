"""Work queues on GSI3: items keyed ``QUEUE#<kind>#<status>[#<shard>]`` / ``<due>#<id>`` (see keys).

A sharded queue is read by querying every shard (and the legacy unsharded key) in parallel and merging
the results by sort key, so the merged order is exactly the order one partition would give ("oldest due
first"). Sort keys end with the item id, so they are unique across shards and the last one read is a
complete cursor: the next page asks every shard for keys after it.
"""

from __future__ import annotations

import heapq
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING, Any

from orders.dal import cursor, keys
from orders.models.common import format_ts

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# Shards are queried this many at a time (boto3 clients are thread-safe).
_PARALLEL = 16


def query_queue(
    client: DynamoDBClient, table: str, partitions: list[str], until: datetime | None, limit: int
) -> list[dict[str, Any]]:
    """Up to ``limit`` raw items of one (sharded) queue, due first, due at or before ``until`` (None: all)."""
    upper = format_ts(until) + "#~" if until is not None else None
    items, _ = query_merged(
        client, table, keys.QUEUE_INDEX, partitions, after=None, lower=None, upper=upper, limit=limit
    )
    return items


def query_queue_page(
    client: DynamoDBClient,
    table: str,
    partitions: list[str],
    until: datetime | None,
    limit: int,
    after: str | None,
) -> tuple[list[dict[str, Any]], bool]:
    """One page of a queue after the sort key ``after`` (a decoded cursor), and whether more follow."""
    # "<ts>#<id>" keys: "<until>#~" sorts after every key due at that instant.
    upper = format_ts(until) + "#~" if until is not None else None
    return query_merged(client, table, keys.QUEUE_INDEX, partitions, after=after, lower=None, upper=upper, limit=limit)


def queue_page(
    client: DynamoDBClient,
    table: str,
    kind: str,
    status: str,
    *,
    limit: int,
    token: str | None,
    until: datetime | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the ``kind``/``status`` work queue across its shards, due first, and the next page's
    opaque cursor (None on the last page); ``token`` from another queue is INVALID_CURSOR."""
    partition = keys.queue_pk(kind, status)
    after = decode_cursor(token, partition) if token else None
    items, more = query_queue_page(client, table, keys.queue_partitions(kind, status), until, limit, after)
    return items, encode_cursor(partition, items[-1]) if more and items else None


def query_merged(
    client: DynamoDBClient,
    table: str,
    index: str,
    partitions: list[str],
    *,
    after: str | None,
    lower: str | None,
    upper: str | None,
    limit: int,
    forward: bool = True,
) -> tuple[list[dict[str, Any]], bool]:
    """The first ``limit`` items of ``partitions`` together, by sort key, with sort keys in
    (``after``, ``upper``] or [``lower``, ``upper``]; and whether more may follow.
    ``forward=False``: the last ones first, with sort keys in [``lower``, ``after``) or [``lower``, ``upper``].

    Each shard is asked for ``limit + 1`` items: the global first ``limit`` are among them.
    """

    def one(partition: str) -> tuple[list[dict[str, Any]], bool]:
        return _query_partition(client, table, index, partition, after, lower, upper, limit + 1, forward=forward)

    with ThreadPoolExecutor(max_workers=max(1, min(_PARALLEL, len(partitions)))) as pool:
        results = list(pool.map(one, partitions))
    sk_attr = index + "SK"
    merged = list(
        heapq.merge(*(items for items, _ in results), key=lambda item: str(item[sk_attr]["S"]), reverse=not forward)
    )
    more = len(merged) > limit or any(truncated for _, truncated in results)
    return merged[:limit], more


def _query_partition(
    client: DynamoDBClient,
    table: str,
    index: str,
    partition: str,
    after: str | None,
    lower: str | None,
    upper: str | None,
    want: int,
    *,
    forward: bool = True,
) -> tuple[list[dict[str, Any]], bool]:
    pk_attr, sk_attr = index + "PK", index + "SK"
    condition = f"{pk_attr} = :pk"
    values: dict[str, Any] = {":pk": {"S": partition}}
    if forward:
        low = after if after is not None else lower
    else:  # last first: ``after`` bounds the range from above
        low, upper = lower, (after if after is not None else upper)
    if low is not None and upper is not None:
        if low > upper:  # DynamoDB refuses BETWEEN with bounds out of order; nothing can match
            return [], False
        # BETWEEN is inclusive: the key equal to ``after`` is dropped below.
        condition += f" AND {sk_attr} BETWEEN :low AND :high"
        values.update({":low": {"S": low}, ":high": {"S": upper}})
    elif low is not None:
        condition += f" AND {sk_attr} >= :low"
        values[":low"] = {"S": low}
    elif upper is not None:
        condition += f" AND {sk_attr} <= :high"
        values[":high"] = {"S": upper}
    request: dict[str, Any] = {
        "TableName": table,
        "IndexName": index,
        "KeyConditionExpression": condition,
        "ExpressionAttributeValues": values,
        "ScanIndexForward": forward,
    }
    items: list[dict[str, Any]] = []
    while len(items) < want:
        response = client.query(**request, Limit=want - len(items) + (1 if after is not None else 0))
        page = [item for item in response.get("Items", []) if after is None or item[sk_attr]["S"] != after]
        items += page
        last = response.get("LastEvaluatedKey")
        if last is None:
            return items, False
        request["ExclusiveStartKey"] = last
    return items[:want], True


def encode_cursor(base_partition: str, last: dict[str, Any], index: str = keys.QUEUE_INDEX) -> str:
    """The opaque cursor after ``last`` in a merged read of ``index`` (a queue by default): the partition it
    belongs to (unsharded) and the last sort key read."""
    pk_attr, sk_attr = index + "PK", index + "SK"
    return cursor.encode({pk_attr: {"S": base_partition}, sk_attr: last[sk_attr]})


def decode_cursor(token: str, base_partition: str, index: str = keys.QUEUE_INDEX) -> str:
    """The sort key to continue after; INVALID_CURSOR unless it names ``base_partition``."""
    pk_attr, sk_attr = index + "PK", index + "SK"
    key = cursor.decode(token, expected={pk_attr: base_partition}, attributes=frozenset({pk_attr, sk_attr}))
    return str(key[sk_attr]["S"])
