"""listing-worker: the Lambda steps of the listing review workflow (statemachines/listing.asl.json).

Exceptions are left to Lambda on purpose: their class name is the error the state machine's Retry/Catch
match (``ConcurrentModification`` is retried, anything else is caught → ``mark_failed``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from orders.logic import listings
from orders.models.workflow import StepError
from orders.observability import logger, metrics, tracer


class Task(BaseModel):
    action: Literal["record_timeout", "mark_failed"]
    listing_id: str
    error: StepError | None = None


def _record_timeout(task: Task) -> dict[str, Any]:
    return listings.record_timeout(task.listing_id)


def _mark_failed(task: Task) -> dict[str, Any]:
    cause = (task.error or StepError()).describe()
    failed = listings.mark_failed(task.listing_id, cause=cause)
    return {"status": failed.status.value if failed else "UNCHANGED", "failure_cause": cause}


STEPS: dict[str, Callable[[Task], dict[str, Any]]] = {"record_timeout": _record_timeout, "mark_failed": _mark_failed}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = Task.model_validate(event)
    logger.append_keys(listing_id=task.listing_id, step=task.action)
    return STEPS[task.action](task)
