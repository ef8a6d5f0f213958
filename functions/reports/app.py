"""reports: ``GET /reports/summary?from&to`` (analyst): the operations summary of a window."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from orders.http import CurrentCaller, build_resolver, lambda_entry, requires_role
from orders.logic import reports
from orders.models.common import UtcDateTime
from orders.models.report import SummaryReport
from orders.roles import Role

router = Router()


@router.get(
    "/reports/summary",
    summary="Summary of the orders created in [from, to] (analyst)",
    description="Counts by status, median/p95 stage durations, payment failure rate, refund rate and average "
    "rating, from the orders' timelines. At most 92 days (REPORT_WINDOW_TOO_LONG) and 5000 orders "
    "(REPORT_TOO_LARGE); from after to is REPORT_WINDOW_INVALID.",
    tags=["reports"],
)
@requires_role(Role.ANALYST)
def summary(
    caller: CurrentCaller,
    from_: Annotated[
        UtcDateTime, Query(alias="from", description="ISO-8601, inclusive", examples=["2026-11-01T00:00:00Z"])
    ],
    to: Annotated[UtcDateTime, Query(description="ISO-8601, inclusive", examples=["2026-11-21T23:59:59Z"])],
) -> SummaryReport:
    return reports.summary(from_, to)


app = build_resolver(router)
lambda_handler = lambda_entry(app)
