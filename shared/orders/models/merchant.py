"""Merchants (shops selling through the platform) and their listings: proposed products and product changes
that go on sale only once reviewed (docs/merchants.md)."""

from __future__ import annotations

import re
import time
import uuid
from enum import StrEnum
from typing import Annotated, Any

from pydantic import ConfigDict, Field

from orders.models.base import Model
from orders.models.catalog import MerchantId, Sku
from orders.models.common import UtcDateTime
from orders.models.notification import Email, Phone


class ShopDetails(Model):
    """A shop's details, as its merchant sets them (MerchantProfileRequest) and the profile keeps them."""

    shop_name: Annotated[str, Field(min_length=1, max_length=100, examples=["North Loom"])]
    contact_name: Annotated[str, Field(min_length=1, max_length=100, examples=["Ada Lovelace"])]
    contact_phone: Phone | None = None
    support_email: Email


class MerchantProfile(ShopDetails):
    """A shop's public details. Field names are a contract (the item in OrdersTable, the API)."""

    model_config = ConfigDict(frozen=True)

    merchant_id: MerchantId
    updated_at: UtcDateTime
    updated_by: str
    version: Annotated[int, Field(ge=1)] = 1


class ListingStatus(StrEnum):
    PENDING_REVIEW = "PENDING_REVIEW"  # passed the automatic checks; waiting for a reviewer
    AUTO_REJECTED = "AUTO_REJECTED"  # refused by the automatic checks (reason_code says which)
    APPROVED = "APPROVED"  # on sale: written to the catalog in the decision's own transaction
    REJECTED = "REJECTED"  # refused by a reviewer, by the timeout action, or no longer applicable
    FAILED = "FAILED"  # the workflow broke (see failure_cause); the live product is unchanged


OPEN_LISTING = frozenset({ListingStatus.PENDING_REVIEW})


class ListingKind(StrEnum):
    CREATE = "create"  # a new product
    UPDATE = "update"  # a change to one of the merchant's products


class ReasonCode(StrEnum):
    """Why a listing was refused: stable codes the merchant's app can key on."""

    MISSING_FIELDS = "MISSING_FIELDS"
    PRICE_OUT_OF_BOUNDS = "PRICE_OUT_OF_BOUNDS"
    BANNED_WORDS = "BANNED_WORDS"
    IMAGE_COUNT = "IMAGE_COUNT"
    REVIEWER_REJECTED = "REVIEWER_REJECTED"
    REVIEW_TIMED_OUT = "REVIEW_TIMED_OUT"
    PRODUCT_CHANGED = "PRODUCT_CHANGED"


SYSTEM_CHECKS = "system:checks"

# "lst_<merchant>_<12 hex ms time><6 hex random>": the listing id names its merchant (one GetItem, no
# lookup), sorts by submission time under the merchant, and is its Step Functions execution name
# (letters, digits, '-' and '_' only; at most 4 + 40 + 1 + 18 = 63 of the 80 characters allowed).
_LISTING_ID = re.compile(r"^lst_([a-z0-9][a-z0-9-]{0,39})_([0-9a-f]{18})$")


def new_listing_id(merchant_id: str) -> str:
    return f"lst_{merchant_id}_{int(time.time() * 1000):012x}{uuid.uuid4().hex[:6]}"


def merchant_of(listing_id: str) -> str | None:
    """The merchant a listing id belongs to, or None when the id is not one of ours."""
    match = _LISTING_ID.match(listing_id)
    return match.group(1) if match else None


class ListingFields(Model):
    """A listing as its merchant and the reviewers see it (ListingOut); the stored Listing adds what stays in the
    backend. Field names are a contract: notify reads them from the stream."""

    listing_id: str
    merchant_id: str
    sku: str
    kind: ListingKind
    # As the catalog stores them.
    changes: dict[str, Any] = Field(description="The proposed product (create) or the fields to change (update).")
    status: ListingStatus
    submitted_at: UtcDateTime
    updated_at: UtcDateTime
    review_due_at: UtcDateTime | None = None
    decided_by: str | None = None
    decided_at: UtcDateTime | None = None
    decision_note: str | None = None
    reason_code: ReasonCode | None = Field(default=None, description="Why it was refused (stable code).")
    reason: str | None = None
    failure_cause: str | None = None


class Listing(ListingFields):
    """A proposed product or product change."""

    model_config = ConfigDict(frozen=True)

    merchant_id: MerchantId
    sku: Sku
    # The merchant user who submitted it (notified of the outcome).
    user_id: str
    # Written by the workflow's review task; never leaves the backend.
    task_token: str | None = None
    version: Annotated[int, Field(ge=1)] = 1

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_LISTING

    @property
    def in_review(self) -> bool:
        """Waiting for a reviewer (the workflow's review task holds its token)."""
        return self.status is ListingStatus.PENDING_REVIEW
