"""Merchants: their shop profile and their orders (shipping them is orders.logic.shipping, scoped to the
merchant). Listings (proposed products and changes) are orders.logic.listings."""

from __future__ import annotations

from datetime import datetime

from orders import errors
from orders.config import get_config
from orders.dal.orders import OrderPage
from orders.dal.repos import merchants_repository
from orders.models.api import MerchantProfileRequest
from orders.models.common import utcnow
from orders.models.merchant import MerchantProfile
from orders.models.order import OrderStatus

_ATTEMPTS = 3


def get_profile(merchant_id: str) -> MerchantProfile:
    profile = merchants_repository().profile(merchant_id)
    if profile is None:
        raise errors.MerchantProfileNotFound(merchant_id=merchant_id)
    return profile


def put_profile(merchant_id: str, request: MerchantProfileRequest, *, user_id: str) -> MerchantProfile:
    """Set the shop's details: a conditional write on the version read (a concurrent edit is retried)."""
    repo = merchants_repository()
    for attempt in range(_ATTEMPTS):
        before = repo.profile(merchant_id)
        after = MerchantProfile(
            merchant_id=merchant_id,
            **request.model_dump(),
            updated_at=utcnow(),
            updated_by=user_id,
            version=before.version + 1 if before else 1,
        )
        try:
            repo.put_profile(before, after)
        except errors.ConcurrentModification:
            if attempt == _ATTEMPTS - 1:
                raise
            continue
        return after
    raise AssertionError("unreachable")


def orders(
    merchant_id: str,
    *,
    status: OrderStatus | None,
    start: datetime | None,
    end: datetime | None,
    limit: int | None,
    cursor: str | None,
) -> OrderPage:
    """The merchant's own orders, newest first (key-condition queries on GSI5 only)."""
    if start is not None and end is not None and start > end:
        raise errors.InvalidTimeRange()
    return merchants_repository().orders(
        merchant_id,
        status=status,
        start=start,
        end=end,
        limit=limit or get_config().default_page_size,
        after=cursor,
    )
