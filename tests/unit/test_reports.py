"""The summary report's computations, on hand-made timelines (no AWS)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from orders import errors
from orders.logic import reports
from orders.models.order import Order, OrderStatus, TimelineEvent
from orders.models.report import OrderFacts

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
S = OrderStatus


def order(status: OrderStatus, *, refunded_total: int = 0, created: datetime = T0) -> Order:
    return Order(
        order_id=f"ord_{status.value.lower()}",
        user_id="user-0001",
        status=status,
        items=[],
        currency="USD",
        subtotal=1000,
        shipping_fee=0,
        total=1000,
        refunded_total=refunded_total,
        created_at=created,
        updated_at=created,
    )


def timeline(*steps: tuple[float, str, OrderStatus | None, OrderStatus | None, dict[str, Any]]) -> list[TimelineEvent]:
    """(minutes after T0, type, from, to, details) → events with versions in that order."""
    return [
        TimelineEvent(
            at=T0 + timedelta(minutes=minutes),
            type=kind,
            from_status=before,
            to_status=after,
            actor="test",
            version=version,
            details=details,
        )
        for version, (minutes, kind, before, after, details) in enumerate(steps, start=1)
    ]


Step = tuple[float, str, OrderStatus | None, OrderStatus | None, dict[str, Any]]
CREATED: Step = (0, "CREATED", None, S.PENDING_PAYMENT, {})


def shipped_and_delivered(paid_min: float, ship_min: float, deliver_min: float) -> OrderFacts:
    return OrderFacts(
        order=order(S.DELIVERED),
        timeline=timeline(
            CREATED,
            (paid_min, "PAYMENT_SUCCEEDED", S.PENDING_PAYMENT, S.PAID, {}),
            (paid_min, "START_FULFILMENT", S.PAID, S.PENDING_SHIPMENT, {}),
            (ship_min, "SHIP", S.PENDING_SHIPMENT, S.SHIPPED, {}),
            (deliver_min, "DELIVER", S.SHIPPED, S.DELIVERED, {}),
        ),
        rating=4,
    )


def test_stage_durations_statuses_and_rating_come_from_the_timelines() -> None:
    # Given two delivered orders and one that was never paid
    facts = [
        shipped_and_delivered(paid_min=2, ship_min=62, deliver_min=1502),
        shipped_and_delivered(paid_min=4, ship_min=124, deliver_min=2884),
        OrderFacts(order=order(S.PENDING_PAYMENT), timeline=timeline(CREATED)),
    ]
    # When summarised
    report = reports.summarize(facts, T0, T0 + timedelta(days=1), now=T0)
    # Then
    assert report.orders == 3
    assert report.counts_by_status["DELIVERED"] == 2
    assert report.counts_by_status["PENDING_PAYMENT"] == 1
    assert report.counts_by_status["REFUNDED"] == 0
    assert report.durations.created_to_paid.count == 2
    assert report.durations.created_to_paid.median_seconds == 180.0
    assert report.durations.created_to_paid.p95_seconds == 240.0
    assert report.durations.paid_to_shipped.median_seconds == 90 * 60.0
    assert report.durations.shipped_to_delivered.p95_seconds == 2760 * 60.0
    assert report.average_rating == 4.0
    assert report.ratings == 2
    assert report.payment_failure_rate == 0.0
    assert report.refund_rate == 0.0


def test_payment_failures_refunds_and_their_durations() -> None:
    # Given an order that failed once then paid and was refunded after a review, and one that only failed
    refunded = OrderFacts(
        order=order(S.REFUNDED, refunded_total=1000),
        timeline=timeline(
            CREATED,
            (1, "PAYMENT_FAILED", S.PENDING_PAYMENT, S.PAYMENT_FAILED, {}),
            (3, "PAYMENT_SUCCEEDED", S.PAYMENT_FAILED, S.PAID, {}),
            (10, "REFUND_REQUESTED", None, None, {"refund_id": "rf_1"}),
            (11, "REFUND_REVIEW_STARTED", None, None, {"refund_id": "rf_1"}),
            (70, "REFUND_APPROVED", None, None, {"refund_id": "rf_1"}),
            (71, "REFUND_SUCCEEDED", S.PAID, S.REFUNDED, {"refund_id": "rf_1"}),
        ),
    )
    failed = OrderFacts(
        order=order(S.PAYMENT_FAILED),
        timeline=timeline(CREATED, (1, "PAYMENT_FAILED", S.PENDING_PAYMENT, S.PAYMENT_FAILED, {})),
    )
    # When
    report = reports.summarize([refunded, failed], T0, T0, now=T0)
    # Then
    assert report.payment_failure_rate == 1.0
    assert report.refund_rate == 1.0
    assert report.refunds_requested == 1
    assert report.durations.refund_requested_to_decided.median_seconds == 60 * 60.0
    assert report.durations.refund_decided_to_executed.median_seconds == 60.0
    assert report.durations.created_to_paid.median_seconds == 180.0
    assert report.average_rating is None


def test_an_empty_window_has_counts_of_zero_and_no_rates() -> None:
    report = reports.summarize([], T0, T0, now=T0)
    assert report.orders == 0
    assert set(report.counts_by_status) == {s.value for s in OrderStatus}
    assert report.durations.created_to_paid.count == 0
    assert report.durations.created_to_paid.median_seconds is None
    assert report.payment_failure_rate is None
    assert report.refund_rate is None


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert reports.percentile(values, 0.95) == 95.0
    assert reports.percentile([7.0], 0.95) == 7.0
    assert reports.percentile([], 0.5) is None


def test_windows_are_checked() -> None:
    with pytest.raises(errors.ReportWindowInvalid):
        reports.check_window(T0, T0 - timedelta(seconds=1), max_days=92)
    with pytest.raises(errors.ReportWindowTooLong):
        reports.check_window(T0, T0 + timedelta(days=92, seconds=1), max_days=92)
    reports.check_window(T0, T0 + timedelta(days=92), max_days=92)


def test_csv_is_one_metric_per_row_and_daily_keys_are_per_day() -> None:
    report = reports.summarize([shipped_and_delivered(1, 2, 3)], T0, T0, now=T0)
    rows = dict(line.split(",", 1) for line in reports.to_csv(report).splitlines())
    assert rows["metric"] == "value"
    assert rows["orders"] == "1"
    assert rows["status.DELIVERED"] == "1"
    assert rows["created_to_paid.median_seconds"] == "60.0"
    assert rows["refund_rate"] == "0.0"
    assert rows["payment_failure_rate"] == "0.0"
    assert rows["refund_requested_to_decided.median_seconds"] == ""
    assert reports.report_keys(date(2026, 1, 2)) == (
        "reports/2026/01/02/summary.json",
        "reports/2026/01/02/summary.csv",
    )
    start, end = reports.day_window(date(2026, 1, 2))
    assert (start.isoformat(), end.isoformat()) == ("2026-01-02T00:00:00+00:00", "2026-01-02T23:59:59.999999+00:00")
