"""Stage-duration metrics: names, units and values from the stored timestamps."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from orders.logic.stages import Stage, record_order_stage, record_stage
from orders.models.order import Order, OrderStatus, Shipment
from orders.observability import metrics

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


@pytest.fixture
def emitted() -> Iterator[None]:
    metrics.clear_metrics()
    yield
    metrics.clear_metrics()


def flush() -> dict[str, Any]:
    blob: dict[str, Any] = dict(metrics.serialize_metric_set())
    units = {m["Name"]: m["Unit"] for m in blob["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    return {name: (blob[name][0] if isinstance(blob[name], list) else blob[name], units[name]) for name in units}


def order(status: OrderStatus, **extra: Any) -> Order:
    return Order(
        order_id="ord_1",
        user_id="u",
        status=status,
        items=[],
        currency="USD",
        subtotal=0,
        shipping_fee=0,
        total=0,
        created_at=T0,
        updated_at=T0,
        **extra,
    )


def test_paid_shipped_and_delivered_emit_their_stage_in_seconds(emitted: None) -> None:
    record_order_stage(order(OrderStatus.PAID), T0 + timedelta(seconds=90))
    paid = T0 + timedelta(minutes=2)
    record_order_stage(order(OrderStatus.SHIPPED, paid_at=paid), paid + timedelta(hours=1))
    shipment = Shipment(carrier="UPS", tracking_number="1Z", shipped_at=T0)
    record_order_stage(order(OrderStatus.DELIVERED, shipment=shipment), T0 + timedelta(days=1))
    record_order_stage(order(OrderStatus.COMPLETED), T0)  # not a measured stage
    assert flush() == {
        "StageCreatedToPaid": (90.0, "Seconds"),
        "OrdersPaid": (1.0, "Count"),
        "StagePaidToShipped": (3600.0, "Seconds"),
        "StageShippedToDelivered": (86400.0, "Seconds"),
    }


def test_an_unknown_start_emits_nothing_and_clock_skew_is_zero(emitted: None) -> None:
    record_order_stage(order(OrderStatus.SHIPPED), T0)  # paid before paid_at existed
    record_stage(Stage.REFUND_REQUESTED_TO_DECIDED, None, T0)
    record_stage(Stage.REFUND_DECIDED_TO_EXECUTED, T0, T0 - timedelta(seconds=1))
    assert flush() == {"StageRefundDecidedToExecuted": (0.0, "Seconds")}
