"""scheduler: EventBridge schedules run one job each, named in the event (``{"job": "..."}``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from orders.logic import scheduler
from orders.observability import logger, metrics, tracer

if TYPE_CHECKING:
    from orders.logic.ports import PaymentGateway


def payment_gateway() -> PaymentGateway:
    """The PaymentGateway this function hands the logic (wired here).

    Its adapters are imported on first use: only the expiry job needs them.
    """
    from orders.adapters.payments import payment_gateway

    return payment_gateway()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = scheduler.run(str(event.get("job", "")), gateway=payment_gateway()).as_dict()
    logger.info("job done", **result)
    return result
