"""refund-worker: the Lambda steps of the refund workflow (statemachines/refund.asl.json): those every review
workflow has (orders.logic.review) and the refund's own (open, execute at the provider, finalize).
``TransientProviderError`` is retried by the state machine with backoff, anything else is caught → ``mark_failed``
(orders.steps)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Literal

import orders.adapters.refund_gateway as gateways
from orders.logic import refunds
from orders.models.workflow import StepTask
from orders.steps import step_entry


class Task(StepTask):
    id_field: ClassVar[str] = "refund_id"

    action: Literal["open", "record_timeout", "execute", "finalize", "mark_failed"]
    refund_id: str
    provider_refund_id: str | None = None


def _open(task: Task) -> dict[str, Any]:
    refunds.open_review(task.refund_id)
    return {}


def _execute(task: Task) -> dict[str, Any]:
    result = refunds.execute(task.refund_id, gateway=gateways.refund_gateway())
    return {"provider_refund_id": result.provider_refund_id, "status": result.status}


def _finalize(task: Task) -> dict[str, Any]:
    if not task.provider_refund_id:
        raise ValueError("finalize needs provider_refund_id")
    refund = refunds.finalize(task.refund_id, provider_refund_id=task.provider_refund_id)
    return {"status": refund.status.value}


# record_timeout and mark_failed: the steps every review workflow runs (orders.logic.review).
STEPS: dict[str, Callable[[Task], dict[str, Any]]] = {
    **refunds.REVIEW.steps(),
    "open": _open,
    "execute": _execute,
    "finalize": _finalize,
}

lambda_handler = step_entry(Task, STEPS)
