"""The operations summary: what happened to the orders created in a window, from their timelines.

Pure computations first (``summarize`` and helpers: no I/O, unit-tested with hand-made
timelines), then the two uses: the analyst's ``GET /reports/summary`` and the scheduled daily
report written to S3 as JSON and CSV. Cost: one key-condition Query per UTC day of the window on
the created-day index (GSI4, keys only), then one Query per order reading the order, its
timeline and its feedback (never a scan); the window and the number of orders are bounded.
"""

from __future__ import annotations

import csv
import io
import math
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from orders import errors
from orders.config import get_config
from orders.models.common import format_ts, utcnow
from orders.models.order import OrderStatus, TimelineEvent
from orders.models.report import Durations, OrderFacts, StageDurations, SummaryReport
from orders.observability import logger, metrics

if TYPE_CHECKING:
    from orders.logic.ports import ReportStore

REFUND_REQUESTED = "REFUND_REQUESTED"
REFUND_DECISIONS = frozenset({"REFUND_APPROVED", "REFUND_REJECTED"})
REFUND_APPROVED = "REFUND_APPROVED"
REFUND_SUCCEEDED = "REFUND_SUCCEEDED"
REFUND_FAILED = "REFUND_FAILED"
PAYMENT_FAILED = "PAYMENT_FAILED"


# --- pure ------------------------------------------------------------------------------------
def check_window(start: datetime, end: datetime, *, max_days: int) -> None:
    """422 when the window is reversed or longer than ``max_days``."""
    if start > end:
        raise errors.ReportWindowInvalid(**{"from": format_ts(start), "to": format_ts(end)})
    if end - start > timedelta(days=max_days):
        raise errors.ReportWindowTooLong(max_days=max_days)


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Nearest-rank percentile (``fraction`` in 0..1) of ``values``; None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def stage(values: Sequence[float]) -> StageDurations:
    if not values:
        return StageDurations(count=0)
    return StageDurations(
        count=len(values),
        median_seconds=round(float(statistics.median(values)), 3),
        p95_seconds=round(float(percentile(values, 0.95) or 0.0), 3),
    )


def _first_reaching(timeline: Iterable[TimelineEvent], status: OrderStatus) -> datetime | None:
    return next((event.at for event in timeline if event.to_status is status), None)


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds())


def _refund_times(timeline: Sequence[TimelineEvent], types: frozenset[str]) -> dict[str, datetime]:
    """refund id → time of its first timeline event of one of ``types``."""
    found: dict[str, datetime] = {}
    for event in timeline:
        refund_id = event.details.get("refund_id")
        if event.type in types and isinstance(refund_id, str):
            found.setdefault(refund_id, event.at)
    return found


def summarize(facts: Iterable[OrderFacts], start: datetime, end: datetime, *, now: datetime) -> SummaryReport:
    """The summary of these orders (the caller chose them: created in [start, end])."""
    statuses: Counter[str] = Counter()
    created_to_paid: list[float] = []
    paid_to_shipped: list[float] = []
    shipped_to_delivered: list[float] = []
    requested_to_decided: list[float] = []
    decided_to_executed: list[float] = []
    with_payment_outcome = failed_payment = paid = refunded = 0
    refunds_requested = refunds_failed = 0
    ratings: list[int] = []
    for fact in facts:
        order, timeline = fact.order, sorted(fact.timeline, key=lambda e: e.version)
        statuses[order.status.value] += 1
        paid_at = _first_reaching(timeline, OrderStatus.PAID)
        shipped_at = _first_reaching(timeline, OrderStatus.SHIPPED)
        delivered_at = _first_reaching(timeline, OrderStatus.DELIVERED)
        for bucket, seconds in (
            (created_to_paid, _seconds(order.created_at, paid_at)),
            (paid_to_shipped, _seconds(paid_at, shipped_at)),
            (shipped_to_delivered, _seconds(shipped_at, delivered_at)),
        ):
            if seconds is not None:
                bucket.append(seconds)
        failed = any(event.type == PAYMENT_FAILED for event in timeline)
        if failed or paid_at is not None:
            with_payment_outcome += 1
            failed_payment += failed
        if paid_at is not None:
            paid += 1
            refunded += order.refunded_total > 0
        requested = _refund_times(timeline, frozenset({REFUND_REQUESTED}))
        decided = _refund_times(timeline, REFUND_DECISIONS)
        approved = _refund_times(timeline, frozenset({REFUND_APPROVED}))
        executed = _refund_times(timeline, frozenset({REFUND_SUCCEEDED}))
        refunds_requested += len(requested)
        refunds_failed += len(_refund_times(timeline, frozenset({REFUND_FAILED})))
        requested_to_decided += [s for r, t in requested.items() if (s := _seconds(t, decided.get(r))) is not None]
        decided_to_executed += [s for r, t in approved.items() if (s := _seconds(t, executed.get(r))) is not None]
        if fact.rating is not None:
            ratings.append(fact.rating)
    return SummaryReport(
        from_=start,
        to=end,
        generated_at=now,
        orders=sum(statuses.values()),
        counts_by_status={status.value: statuses.get(status.value, 0) for status in OrderStatus},
        durations=Durations(
            created_to_paid=stage(created_to_paid),
            paid_to_shipped=stage(paid_to_shipped),
            shipped_to_delivered=stage(shipped_to_delivered),
            refund_requested_to_decided=stage(requested_to_decided),
            refund_decided_to_executed=stage(decided_to_executed),
        ),
        payment_failure_rate=_rate(failed_payment, with_payment_outcome),
        refund_rate=_rate(refunded, paid),
        refunds_requested=refunds_requested,
        refunds_failed=refunds_failed,
        average_rating=round(statistics.fmean(ratings), 3) if ratings else None,
        ratings=len(ratings),
    )


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def to_csv(report: SummaryReport) -> str:
    """The report as ``metric,value`` rows (flat, for spreadsheets); empty value = not measurable."""
    rows: list[tuple[str, Any]] = [
        ("from", format_ts(report.from_)),
        ("to", format_ts(report.to)),
        ("generated_at", format_ts(report.generated_at)),
        ("orders", report.orders),
    ]
    rows += [(f"status.{status}", count) for status, count in report.counts_by_status.items()]
    for name, durations in report.durations:
        rows += [(f"{name}.{field}", value) for field, value in durations]
    rows += [
        ("payment_failure_rate", report.payment_failure_rate),
        ("refund_rate", report.refund_rate),
        ("refunds_requested", report.refunds_requested),
        ("refunds_failed", report.refunds_failed),
        ("average_rating", report.average_rating),
        ("ratings", report.ratings),
    ]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("metric", "value"))
    writer.writerows((name, "" if value is None else value) for name, value in rows)
    return buffer.getvalue()


def day_window(day: date) -> tuple[datetime, datetime]:
    """[00:00:00.000000, 23:59:59.999999] of a UTC day."""
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, datetime.combine(day, time.max, tzinfo=UTC)


def report_keys(day: date) -> tuple[str, str]:
    prefix = f"reports/{day:%Y/%m/%d}/summary"
    return f"{prefix}.json", f"{prefix}.csv"


# --- uses --------------------------------------------------------------------------------------
def summary(start: datetime, end: datetime) -> SummaryReport:
    """GET /reports/summary: the orders created in [start, end] (bounded window and size)."""
    from orders.dal.repos import reports_repository

    config = get_config()
    check_window(start, end, max_days=config.report_max_days)
    repo = reports_repository()
    order_ids = repo.orders_created_between(start, end, limit=config.report_max_orders + 1)
    if len(order_ids) > config.report_max_orders:
        raise errors.ReportTooLarge(max_orders=config.report_max_orders)
    facts = repo.facts(order_ids)
    logger.info("summary computed", orders=len(facts), days=(end - start).days + 1)
    metrics.add_metric(name="ReportsComputed", unit="Count", value=1)
    return summarize(facts, start, end, now=utcnow())


def write_daily_report(day: date | None = None, *, store: ReportStore) -> dict[str, str]:
    """The summary of one UTC day (default: yesterday) as JSON and CSV in ``store`` (the reports bucket).

    Idempotent: the same day always writes the same two keys (a rerun overwrites them).
    """
    day = day or (utcnow() - timedelta(days=1)).date()
    start, end = day_window(day)
    report = summary(start, end)
    json_key, csv_key = report_keys(day)
    store.put(json_key, report.model_dump_json(by_alias=True, indent=2), "application/json")
    store.put(csv_key, to_csv(report), "text/csv")
    bucket = store.bucket
    logger.info("daily report written", bucket=bucket, json_key=json_key, csv_key=csv_key, orders=report.orders)
    return {"bucket": bucket, "json": json_key, "csv": csv_key}
