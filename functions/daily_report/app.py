"""daily-report: a schedule writes yesterday's (UTC) summary to the reports bucket as JSON and CSV.

The event may name the day (``{"day": "YYYY-MM-DD"}``) to rewrite one; the keys are per day, so a
rerun overwrites the same two objects. The bucket (the logic's ReportStore) is wired here, on first use.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from orders.adapters.report_store import S3ReportStore, s3_client
from orders.cache import per_environment
from orders.config import get_config
from orders.logic import reports
from orders.logic.ports import ReportStore
from orders.observability import logger, metrics, tracer


@per_environment
def report_store() -> ReportStore:
    """The reports bucket (REPORTS_BUCKET) this function writes to."""
    return S3ReportStore(get_config().table("reports_bucket"), s3_client())


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, str]:
    day = event.get("day")
    return reports.write_daily_report(date.fromisoformat(day) if isinstance(day, str) else None, store=report_store())
