"""Opaque pagination cursors over DynamoDB's LastEvaluatedKey.

A cursor is the base64url JSON of the last key read. It needs no secret: on the way back in
it must name exactly the index partition the caller is querying (their own), so a tampered or
foreign cursor cannot reach anyone else's items; anything malformed is refused as INVALID_CURSOR.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import TYPE_CHECKING, Any, NamedTuple

from orders.errors import InvalidCursor

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_MAX_CURSOR_LENGTH = 2048


def encode(last_key: dict[str, Any]) -> str:
    plain = {name: value["S"] for name, value in last_key.items()}
    raw = json.dumps(plain, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str, *, expected: dict[str, str], attributes: frozenset[str]) -> dict[str, Any]:
    """The ExclusiveStartKey for ``cursor``.

    ``attributes`` are the exact key attribute names of the index being queried;
    ``expected`` are attribute values the key must carry (the caller's partition).
    """
    if len(cursor) > _MAX_CURSOR_LENGTH:
        raise InvalidCursor()
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        plain = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidCursor() from exc
    if (
        not isinstance(plain, dict)
        or set(plain) != attributes
        or not all(isinstance(value, str) and 0 < len(value) <= 1024 for value in plain.values())
        or any(plain.get(name) != value for name, value in expected.items())
    ):
        raise InvalidCursor()
    return {name: {"S": value} for name, value in plain.items()}


class QueryPage(NamedTuple):
    items: list[dict[str, Any]]  # raw DynamoDB items
    next_cursor: str | None
    items_read: int  # DynamoDB's ScannedCount


def query_page(
    client: DynamoDBClient,
    request: dict[str, Any],
    *,
    limit: int,
    after: str | None,
    expected: dict[str, str],
    key: tuple[str, ...],
) -> QueryPage:
    """One page of the Query ``request``: at most ``limit`` items, and the cursor after the last of them when
    more follow (it reads ``limit + 1``: the extra one only tells whether a next page exists).

    ``key``: the key attributes of the index queried (a cursor is the last item's key); ``expected``: the
    attribute values a cursor coming back must carry (the caller's partition), see ``decode``.
    """
    request = {**request, "Limit": limit + 1}
    if after:
        request["ExclusiveStartKey"] = decode(after, expected=expected, attributes=frozenset(key))
    response = client.query(**request)
    raw = response.get("Items", [])
    next_cursor = encode({name: raw[limit - 1][name] for name in key}) if len(raw) > limit else None
    return QueryPage(raw[:limit], next_cursor, response.get("ScannedCount", 0))
