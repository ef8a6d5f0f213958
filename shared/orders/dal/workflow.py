"""The review workflows (Step Functions; refunds and listings, see orders.logic.review): start an execution,
resume one waiting on a task token."""

from __future__ import annotations

import json
from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient


@cache
def sfn_client() -> SFNClient:
    import boto3

    return boto3.client("stepfunctions")


class Resume(StrEnum):
    RESUMED = "RESUMED"
    TIMED_OUT = "TIMED_OUT"  # the task's TimeoutSeconds passed: the workflow took its timeout path
    NOT_WAITING = "NOT_WAITING"  # no execution waits on this token (used, stopped, unknown)


class ReviewWorkflow:
    """One review state machine: executions named by the reviewed item's id."""

    def __init__(self, state_machine_arn: str, client: SFNClient | None = None) -> None:
        self._arn = state_machine_arn
        self._client = client

    @property
    def client(self) -> SFNClient:
        return self._client or sfn_client()

    def start(self, item_id: str, payload: dict[str, Any]) -> bool:
        """Start the item's execution, named by its id; False if it already exists."""
        try:
            self.client.start_execution(stateMachineArn=self._arn, name=item_id, input=json.dumps(payload))
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ExecutionAlreadyExists":
                return False
            raise
        return True

    def resume(self, task_token: str, output: dict[str, Any]) -> Resume:
        try:
            self.client.send_task_success(taskToken=task_token, output=json.dumps(output))
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            if code == "TaskTimedOut":
                return Resume.TIMED_OUT
            if code in ("InvalidToken", "TaskDoesNotExist"):
                return Resume.NOT_WAITING
            raise
        return Resume.RESUMED
