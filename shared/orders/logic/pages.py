"""Pages of a list: the size a request gets, and a page of someone's orders (a user's, a merchant's)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Protocol, TypedDict, Unpack

from orders import errors
from orders.config import get_config

if TYPE_CHECKING:
    from orders.dal.orders import OrderPage, OrderQuery
    from orders.models.order import OrderStatus


def page_size(limit: int | None) -> int:
    """The page size asked for, else the configured default."""
    return limit or get_config().default_page_size


class OrdersQuery(Protocol):
    """A repository's read of one owner's orders, newest first, by key conditions only."""

    def __call__(self, owner: str, /, **query: Unpack[OrderQuery]) -> OrderPage: ...


class OrderFilters(TypedDict):
    """Which page of someone's orders: ``status`` (any when None), created between ``start`` and ``end``
    (inclusive; either open), ``limit`` orders (None: the default) after ``cursor``."""

    status: OrderStatus | None
    start: datetime | None
    end: datetime | None
    limit: int | None
    cursor: str | None


def orders_page(query: OrdersQuery, owner: str, **filters: Unpack[OrderFilters]) -> OrderPage:
    """One page of ``owner``'s orders, newest first; 400 INVALID_TIME_RANGE when ``start`` is after ``end``."""
    start, end = filters["start"], filters["end"]
    if start is not None and end is not None and start > end:
        raise errors.InvalidTimeRange()
    return query(
        owner,
        status=filters["status"],
        start=start,
        end=end,
        limit=page_size(filters["limit"]),
        after=filters["cursor"],
    )
