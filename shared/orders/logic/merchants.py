"""Merchants: their shop profile and their orders (shipping them is orders.logic.shipping, scoped to the
merchant). Listings (proposed products and changes) are orders.logic.listings."""

from __future__ import annotations

from typing import Unpack

from orders import errors
from orders.dal.orders import OrderPage
from orders.dal.repos import merchants_repository
from orders.logic.pages import OrderFilters, orders_page
from orders.logic.retry import retrying
from orders.models.api import MerchantProfileRequest
from orders.models.common import utcnow
from orders.models.merchant import MerchantProfile


def get_profile(merchant_id: str) -> MerchantProfile:
    profile = merchants_repository().profile(merchant_id)
    if profile is None:
        raise errors.MerchantProfileNotFound(merchant_id=merchant_id)
    return profile


def put_profile(merchant_id: str, request: MerchantProfileRequest, *, user_id: str) -> MerchantProfile:
    """Set the shop's details: a conditional write on the version read (a concurrent edit is retried)."""
    repo = merchants_repository()

    def attempt() -> MerchantProfile:
        before = repo.profile(merchant_id)
        after = MerchantProfile(
            merchant_id=merchant_id,
            **request.model_dump(),
            updated_at=utcnow(),
            updated_by=user_id,
            version=before.version + 1 if before else 1,
        )
        repo.put_profile(before, after)
        return after

    return retrying(attempt)


def orders(merchant_id: str, **filters: Unpack[OrderFilters]) -> OrderPage:
    """The merchant's own orders, newest first (key-condition queries on GSI5 only)."""
    return orders_page(merchants_repository().orders, merchant_id, **filters)
