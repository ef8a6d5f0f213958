"""scheduler: EventBridge schedules run one job each, named in the event (``{"job": "..."}``)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from orders.logic import scheduler
from orders.observability import logger, metrics, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = scheduler.run(str(event.get("job", ""))).as_dict()
    logger.info("job done", **result)
    return result
