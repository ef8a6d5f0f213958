"""The Lambda entry of a workflow's worker function: one function, one small step per task ``action``.

Exceptions are left to Lambda on purpose: their class name is the error the state machine's Retry/Catch match.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from orders.models.workflow import StepTask
from orders.observability import logger, metrics, tracer

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

TaskT = TypeVar("TaskT", bound=StepTask)


def step_entry(
    task_model: type[TaskT], steps: Mapping[str, Callable[[TaskT], dict[str, Any]]]
) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """The decorated Lambda handler: the event read as ``task_model``, its ``action`` run from ``steps``."""

    @logger.inject_lambda_context
    @tracer.capture_lambda_handler
    @metrics.log_metrics
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        task = task_model.model_validate(event)
        logger.append_keys(**{task.id_field: task.item_id}, step=task.action)
        return steps[task.action](task)

    return lambda_handler
