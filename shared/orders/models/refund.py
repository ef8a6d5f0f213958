"""Refund domain model: a request to give money back on an order, and its review."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import ConfigDict, Field

from orders.models.base import Model
from orders.models.common import CurrencyCode, UtcDateTime
from orders.models.workflow import SYSTEM_TIMEOUT as SYSTEM_TIMEOUT  # re-exported: the review's names
from orders.models.workflow import Decision as Decision


class RefundStatus(StrEnum):
    PENDING_REVIEW = "PENDING_REVIEW"
    APPROVED = "APPROVED"
    SUCCEEDED = "SUCCEEDED"
    REJECTED = "REJECTED"
    FAILED = "FAILED"


OPEN_STATUSES = frozenset({RefundStatus.PENDING_REVIEW, RefundStatus.APPROVED})

SYSTEM_AUTO = "system:auto"

# "rf_<order id without its 'ord_' prefix>_<random>": the refund id names its order, so
# GET /refunds/{refund_id} is one GetItem (no lookup item, no index). It is also the name of
# the refund's Step Functions execution (letters, digits, '_' only; well under 80 characters).
_REFUND_ID = re.compile(r"^rf_([0-9a-f]{32})_([0-9a-f]{12})$")


def new_refund_id(order_id: str) -> str:
    if not order_id.startswith("ord_"):
        raise ValueError(f"unexpected order id {order_id!r}")
    return f"rf_{order_id.removeprefix('ord_')}_{uuid.uuid4().hex[:12]}"


def order_id_of(refund_id: str) -> str | None:
    """The order a refund id belongs to, or None when the id is not one of ours."""
    match = _REFUND_ID.match(refund_id)
    return f"ord_{match.group(1)}" if match else None


class Refund(Model):
    """A refund of (part of) an order. Field names are a contract: notify reads them from the stream."""

    model_config = ConfigDict(frozen=True)

    refund_id: str
    order_id: str
    user_id: str
    amount: Annotated[int, Field(gt=0)]
    currency: CurrencyCode
    status: RefundStatus
    reason: str
    requested_at: UtcDateTime
    review_due_at: UtcDateTime | None = None
    decided_by: str | None = None
    decided_at: UtcDateTime | None = None
    decision_note: str | None = None
    failure_cause: str | None = None
    provider_refund_id: str | None = None
    # Automatic: the system refunds money that arrived for a cancelled order (no request, no review).
    # Such a refund names the payment it returns; any other refunds the order's own payment.
    automatic: bool = False
    payment_provider: str | None = None
    payment_reference: str | None = None
    # Written by the workflow's review task; never leaves the backend (not in any response).
    task_token: str | None = None
    version: Annotated[int, Field(ge=1)] = 1

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def in_review(self) -> bool:
        """Waiting for a reviewer (the workflow's review task holds its token)."""
        return self.status is RefundStatus.PENDING_REVIEW


def _hour(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H")


class AutoApprovals(Model):
    """A user's refunds approved without review, summed per currency and hour, over a rolling window.

    One record per user, written with a version check in the refund request's own transaction, so two
    concurrent requests cannot both pass the per-user limit.
    """

    model_config = ConfigDict(frozen=True)

    user_id: str
    amounts: dict[str, int] = Field(default_factory=dict)  # "<currency>#<YYYY-MM-DDTHH>" → minor units
    version: Annotated[int, Field(ge=0)] = 0  # 0: not stored yet

    def total(self, currency: str, now: datetime, window_hours: int) -> int:
        since = _hour(now - timedelta(hours=window_hours))
        return sum(
            amount
            for key, amount in self.amounts.items()
            if key.split("#", 1)[0] == currency and key.split("#", 1)[-1] > since
        )

    def add(self, currency: str, amount: int, now: datetime, window_hours: int) -> AutoApprovals:
        """This record with ``amount`` added now, and the hours outside the window dropped."""
        since = _hour(now - timedelta(hours=window_hours))
        kept = {key: value for key, value in self.amounts.items() if key.split("#", 1)[-1] > since}
        key = f"{currency}#{_hour(now)}"
        kept[key] = kept.get(key, 0) + amount
        return self.model_copy(update={"amounts": kept, "version": self.version + 1})
