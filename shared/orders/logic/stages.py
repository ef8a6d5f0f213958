"""Stage-duration metrics: one helper, called where an order or a refund reaches a stage.

Durations come from timestamps already stored (the order's created_at / paid_at / shipment,
the refund's requested_at / decided_at), so a retried write never measures twice: callers emit
only after their conditional write landed. Metric names: Stage<From>To<To>, unit Seconds.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from aws_lambda_powertools.metrics import MetricUnit

from orders.models.order import Order, OrderStatus
from orders.observability import metrics


class Stage(StrEnum):
    CREATED_TO_PAID = "StageCreatedToPaid"
    PAID_TO_SHIPPED = "StagePaidToShipped"
    SHIPPED_TO_DELIVERED = "StageShippedToDelivered"
    REFUND_REQUESTED_TO_DECIDED = "StageRefundRequestedToDecided"
    REFUND_DECIDED_TO_EXECUTED = "StageRefundDecidedToExecuted"


def record_stage(stage: Stage, started: datetime | None, ended: datetime | None) -> None:
    """Emit the seconds from ``started`` to ``ended`` (nothing when either is unknown)."""
    if started is None or ended is None:
        return
    metrics.add_metric(name=stage.value, unit=MetricUnit.Seconds, value=max(0.0, (ended - started).total_seconds()))


def record_order_stage(after: Order, at: datetime) -> None:
    """The stage an order just reached at ``at`` (its new status), if it is a measured one."""
    if after.status is OrderStatus.PAID:
        record_stage(Stage.CREATED_TO_PAID, after.created_at, at)
        metrics.add_metric(name="OrdersPaid", unit=MetricUnit.Count, value=1)
    elif after.status is OrderStatus.SHIPPED:
        record_stage(Stage.PAID_TO_SHIPPED, after.paid_at, at)
    elif after.status is OrderStatus.DELIVERED:
        record_stage(Stage.SHIPPED_TO_DELIVERED, after.shipment.shipped_at if after.shipment else None, at)
