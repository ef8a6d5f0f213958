"""Re-arming the reviews a restart finds waiting on a task token (``local_stack.persistence``).

A refund and a merchant's listing both wait for a reviewer in ``PENDING_REVIEW`` with a token of the
stopped process. Each must get a new execution of its own workflow only, and lose the stopped
process's token: a decision that used it would be recorded while nothing resumes (the new execution
then finds the item decided and fails).
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from local_stack.persistence import rearm_waiting_tasks
from local_stack.resources import CreatedResources, state_machine_definition
from tests.integration.conftest import REFS, TEMPLATE

MACHINES = ("RefundStateMachine", "ListingStateMachine")
STALE = "token-of-the-execution-before-the-restart"
REFUND = {
    "PK": {"S": "ORDER#ord_1"},
    "SK": {"S": "REFUND#ref_1"},
    "type": {"S": "REFUND"},
    "refund_id": {"S": "ref_1"},
    "order_id": {"S": "ord_1"},
    "status": {"S": "PENDING_REVIEW"},
    "task_token": {"S": STALE},
    "review_due_at": {"S": "2099-01-01T00:00:00Z"},
}
LISTING = {
    "PK": {"S": "MERCHANT#north-loom"},
    "SK": {"S": "LISTING#lst_1"},
    "type": {"S": "LISTING"},
    "listing_id": {"S": "lst_1"},
    "merchant_id": {"S": "north-loom"},
    "status": {"S": "PENDING_REVIEW"},
    "task_token": {"S": STALE},
    "review_due_at": {"S": "2099-01-01T00:00:00Z"},
}


class StepFunctions:
    """The template's review machines; records which machine each execution was started on."""

    def __init__(self) -> None:
        self.started: list[tuple[str, dict[str, Any]]] = []
        self.definitions = {
            f"arn:{name}": state_machine_definition(TEMPLATE["Resources"][name], REFS) for name in MACHINES
        }

    def describe_state_machine(self, stateMachineArn: str) -> dict[str, Any]:
        name = stateMachineArn.removeprefix("arn:")
        return {"name": name, "definition": json.dumps(self.definitions[stateMachineArn]), "roleArn": "role"}

    def create_state_machine(self, name: str, **kwargs: Any) -> dict[str, Any]:
        return {"stateMachineArn": f"arn:{name}"}

    def start_execution(self, stateMachineArn: str, input: str) -> dict[str, str]:
        self.started.append((stateMachineArn, json.loads(input)))
        return {"executionArn": f"arn:execution:{len(self.started)}"}


@pytest.mark.usefixtures("aws")
def test_each_waiting_review_is_rearmed_on_its_own_workflow_without_the_stopped_token() -> None:
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    # Given a refund and a listing waiting for a review with the stopped process's task token
    for item in (REFUND, LISTING):
        ddb.put_item(TableName="OrdersTable", Item=item)
    sfn = StepFunctions()
    created = CreatedResources(refs=dict(REFS), state_machines={name: f"arn:{name}" for name in MACHINES})
    # When their reviews are re-armed
    rearmed = rearm_waiting_tasks(sfn, created)
    # Then the refund got one execution of the refund workflow and the listing one of the listing workflow
    started = sorted(
        (arn.split("-resume-")[0], execution.get("refund_id") or execution.get("listing_id"))
        for arn, execution in sfn.started
    )
    assert started == [("arn:ListingStateMachine", "lst_1"), ("arn:RefundStateMachine", "ref_1")]
    assert len(rearmed) == 2
    # and neither still holds the stopped process's token (a decision waits for the new one)
    for item in (REFUND, LISTING):
        stored = ddb.get_item(TableName="OrdersTable", Key={"PK": item["PK"], "SK": item["SK"]}, ConsistentRead=True)
        assert "task_token" not in stored["Item"]
        assert stored["Item"]["status"] == {"S": "PENDING_REVIEW"}
