"""Work queues on GSI3: items keyed ``QUEUE#<kind>#<status>`` / ``<due>#<id>`` (see keys)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from orders.dal import cursor, keys
from orders.models.common import format_ts

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def query_queue(
    client: DynamoDBClient, table: str, partition: str, until: datetime | None, limit: int
) -> list[dict[str, Any]]:
    """Up to ``limit`` raw items of one queue, due first, due at or before ``until`` (None: all)."""
    items: list[dict[str, Any]] = []
    after: dict[str, Any] | None = None
    while len(items) < limit:
        page, after = query_queue_page(client, table, partition, until, limit - len(items), after)
        items += page
        if after is None:
            break
    return items


def query_queue_page(
    client: DynamoDBClient,
    table: str,
    partition: str,
    until: datetime | None,
    limit: int,
    after: dict[str, Any] | None,
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """One page of a queue and the key to continue from (None at the end)."""
    condition = f"{keys.QUEUE_PK} = :pk"
    values: dict[str, Any] = {":pk": {"S": partition}}
    if until is not None:
        # "<ts>#<id>" keys: "<until>#~" sorts after every key due at that instant.
        condition += f" AND {keys.QUEUE_SK} <= :until"
        values[":until"] = {"S": format_ts(until) + "#~"}
    request: dict[str, Any] = {
        "TableName": table,
        "IndexName": keys.QUEUE_INDEX,
        "KeyConditionExpression": condition,
        "ExpressionAttributeValues": values,
        "ScanIndexForward": True,
        "Limit": limit,
    }
    if after:
        request["ExclusiveStartKey"] = after
    response = client.query(**request)
    return list(response.get("Items", [])), response.get("LastEvaluatedKey")


QUEUE_KEY_ATTRIBUTES = frozenset({"PK", "SK", keys.QUEUE_PK, keys.QUEUE_SK})


def encode_cursor(last: dict[str, Any]) -> str:
    return cursor.encode({name: last[name] for name in QUEUE_KEY_ATTRIBUTES})


def decode_cursor(token: str, partition: str) -> dict[str, Any]:
    return cursor.decode(token, expected={keys.QUEUE_PK: partition}, attributes=QUEUE_KEY_ATTRIBUTES)
