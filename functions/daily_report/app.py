"""daily-report: a schedule writes yesterday's (UTC) summary to the reports bucket as JSON and CSV.

The event may name the day (``{"day": "YYYY-MM-DD"}``) to rewrite one; the keys are per day, so a
rerun overwrites the same two objects.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from orders.logic import reports
from orders.observability import logger, metrics, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, str]:
    day = event.get("day")
    return reports.write_daily_report(date.fromisoformat(day) if isinstance(day, str) else None)
