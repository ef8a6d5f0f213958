"""The operations summary report (GET /reports/summary and the daily S3 report)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from orders.models.common import UtcDateTime
from orders.models.order import Order, TimelineEvent

Rate = Annotated[float, Field(ge=0, le=1)]


class StageDurations(BaseModel):
    """Seconds between two stages over the orders (or refunds) that reached both."""

    model_config = ConfigDict(frozen=True)

    count: Annotated[int, Field(ge=0)]
    median_seconds: Annotated[float, Field(ge=0)] | None = None
    p95_seconds: Annotated[float, Field(ge=0)] | None = None


class Durations(BaseModel):
    model_config = ConfigDict(frozen=True)

    created_to_paid: StageDurations
    paid_to_shipped: StageDurations
    shipped_to_delivered: StageDurations
    refund_requested_to_decided: StageDurations
    refund_decided_to_executed: StageDurations


class SummaryReport(BaseModel):
    """What happened to the orders created in [from, to]: rates are 0..1, null when nothing to divide by."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    from_: UtcDateTime = Field(alias="from")
    to: UtcDateTime
    generated_at: UtcDateTime
    orders: Annotated[int, Field(ge=0)]
    counts_by_status: dict[str, Annotated[int, Field(ge=0)]]
    durations: Durations
    # Orders with at least one failed payment / orders with any payment outcome (paid or failed).
    payment_failure_rate: Rate | None = None
    # Paid orders with at least one refund that succeeded / paid orders.
    refund_rate: Rate | None = None
    refunds_requested: Annotated[int, Field(ge=0)] = 0
    refunds_failed: Annotated[int, Field(ge=0)] = 0
    average_rating: Annotated[float, Field(ge=1, le=5)] | None = None
    ratings: Annotated[int, Field(ge=0)] = 0


class OrderFacts(BaseModel):
    """What the report reads of one order: the order, its timeline (oldest first) and its rating."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    order: Order
    timeline: list[TimelineEvent]
    rating: Annotated[int, Field(ge=1, le=5)] | None = None
