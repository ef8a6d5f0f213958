"""refund-worker: the Lambda steps of the refund workflow (statemachines/refund.asl.json).

One function, one small entry point per step, chosen by the task's ``action``. Exceptions are
left to Lambda on purpose: their class name is the error the state machine's Retry/Catch match
(``TransientProviderError`` is retried with backoff, anything else is caught → ``mark_failed``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

import orders.adapters.refund_gateway as gateways
from orders.logic import refunds
from orders.models.workflow import StepError
from orders.observability import logger, metrics, tracer


class Task(BaseModel):
    action: Literal["open", "record_timeout", "execute", "finalize", "mark_failed"]
    refund_id: str
    provider_refund_id: str | None = None
    error: StepError | None = None


def _open(task: Task) -> dict[str, Any]:
    refunds.open_review(task.refund_id)
    return {}


def _record_timeout(task: Task) -> dict[str, Any]:
    return refunds.record_timeout(task.refund_id)


def _execute(task: Task) -> dict[str, Any]:
    result = refunds.execute(task.refund_id, gateway=gateways.refund_gateway())
    return {"provider_refund_id": result.provider_refund_id, "status": result.status}


def _finalize(task: Task) -> dict[str, Any]:
    if not task.provider_refund_id:
        raise ValueError("finalize needs provider_refund_id")
    refund = refunds.finalize(task.refund_id, provider_refund_id=task.provider_refund_id)
    return {"status": refund.status.value}


def _mark_failed(task: Task) -> dict[str, Any]:
    cause = (task.error or StepError()).describe()
    failed = refunds.mark_failed(task.refund_id, cause=cause)
    return {"status": failed.status.value if failed else "UNCHANGED", "failure_cause": cause}


STEPS: dict[str, Callable[[Task], dict[str, Any]]] = {
    "open": _open,
    "record_timeout": _record_timeout,
    "execute": _execute,
    "finalize": _finalize,
    "mark_failed": _mark_failed,
}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = Task.model_validate(event)
    logger.append_keys(refund_id=task.refund_id, step=task.action)
    return STEPS[task.action](task)
