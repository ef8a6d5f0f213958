"""Pagination cursors: round-trip, and anything tampered or foreign is refused."""

from __future__ import annotations

import base64
import json

import pytest

from orders.dal import cursor
from orders.errors import InvalidCursor

KEY = {"PK": {"S": "ORDER#o1"}, "SK": {"S": "#ORDER"}, "GSI1PK": {"S": "USER#u1"}, "GSI1SK": {"S": "2026#o1"}}
ATTRS = frozenset(KEY)
MINE = {"GSI1PK": "USER#u1", "SK": "#ORDER"}


def test_cursor_round_trips() -> None:
    assert cursor.decode(cursor.encode(KEY), expected=MINE, attributes=ATTRS) == KEY


def encoded(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


@pytest.mark.parametrize(
    "token",
    [
        "not base64 at all!!",
        encoded("a string"),
        encoded([1, 2]),
        encoded({"PK": "ORDER#o1"}),  # missing attributes
        encoded({**{k: v["S"] for k, v in KEY.items()}, "extra": "x"}),
        encoded({**{k: v["S"] for k, v in KEY.items()}, "GSI1SK": 5}),
        encoded({**{k: v["S"] for k, v in KEY.items()}, "GSI1PK": "USER#someone-else"}),  # foreign
        "A" * 5000,
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
    ids=["garbage", "string", "list", "missing", "extra", "non-string", "foreign-user", "too-long", "not-utf8"],
)
def test_tampered_or_foreign_cursor_is_refused(token: str) -> None:
    with pytest.raises(InvalidCursor):
        cursor.decode(token, expected=MINE, attributes=ATTRS)
