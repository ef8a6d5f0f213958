"""Step Functions on moto with the real handlers behind its Lambda tasks.

moto runs a state machine's definition when ``stepfunctions.execute_state_machine`` is on, and
with ``lambda.use_docker`` off every Lambda invoke lands in ``LambdaSimpleBackend.invoke``; that
method is replaced here by a dispatcher to the template's handlers (``LambdaRuntime``), so a
``lambda:invoke`` task runs the real code. A handler exception comes back the way Lambda reports
a function error (``X-Amz-Function-Error: Unhandled`` and ``{"errorType", "errorMessage"}``), so
the definition's Retry and Catch see the exception's class name as the error.

The state machines are those of template.yaml, from their DefinitionUri with their
DefinitionSubstitutions resolved against the local names and ARNs.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from unittest.mock import patch

import boto3
from moto.core.config import default_user_config

from local_stack.moto_patches import lambda_invocations_to
from local_stack.resources import state_machine_definition
from local_stack.runtime import LambdaRuntime
from local_stack.template import load_template, resources

ACCOUNT = "123456789012"
REGION = "us-east-1"
STACK = "orders-test"
MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


def function_arn(logical_id: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{logical_id}"


def state_machine_arn(logical_id: str) -> str:
    return f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{STACK}-{logical_id}"


def workflow_refs(template: Mapping[str, Any] | None = None) -> dict[str, str]:
    """Local values of the functions' and state machines' ARNs (!GetAtt X.Arn, !Ref StateMachine)."""
    template = template or load_template()
    refs = {f"{name}.Arn": function_arn(name) for name in resources(template, "AWS::Serverless::Function")}
    refs |= {f"{name}.Alias": function_arn(name) for name in resources(template, "AWS::Serverless::Function")}
    refs |= {name: state_machine_arn(name) for name in resources(template, "AWS::Serverless::StateMachine")}
    return refs


def definition(logical_id: str, refs: Mapping[str, str], template: Mapping[str, Any] | None = None) -> str:
    """The state machine's ASL with its DefinitionSubstitutions resolved against ``refs``."""
    text = json.dumps(state_machine_definition((template or load_template())["Resources"][logical_id], refs))
    if "${" in text:
        raise ValueError(f"{logical_id}: unresolved substitution in {text[text.index('${') :][:60]}")
    return text


@dataclass
class Workflows:
    sfn: Any
    arns: dict[str, str]

    def executions(self, logical_id: str) -> list[dict[str, Any]]:
        return self.sfn.list_executions(stateMachineArn=self.arns[logical_id])["executions"]  # type: ignore[no-any-return]

    def execution_arn(self, logical_id: str, name: str) -> str:
        return self.arns[logical_id].replace(":stateMachine:", ":execution:") + f":{name}"

    def wait(self, execution_arn: str, timeout: float = 30.0) -> dict[str, Any]:
        """describe_execution once the execution has ended (bounded wait)."""
        deadline = time.monotonic() + timeout
        while True:
            described: dict[str, Any] = self.sfn.describe_execution(executionArn=execution_arn)
            if described["status"] in TERMINAL:
                return described
            if time.monotonic() > deadline:
                raise AssertionError(f"{execution_arn} still {described['status']} after {timeout}s")
            time.sleep(0.05)

    def history(self, execution_arn: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"executionArn": execution_arn, "maxResults": 1000}
        while True:
            page = self.sfn.get_execution_history(**kwargs)
            events += page["events"]
            if not page.get("nextToken"):
                return events
            kwargs["nextToken"] = page["nextToken"]

    def states_entered(self, execution_arn: str) -> list[str]:
        """The states the execution went through, in order (one state transition each)."""
        return [
            event["stateEnteredEventDetails"]["name"]
            for event in self.history(execution_arn)
            if event["type"].endswith("StateEntered")
        ]


@contextmanager
def workflows(
    runtime: LambdaRuntime, refs: Mapping[str, str], template: Mapping[str, Any] | None = None
) -> Iterator[Workflows]:
    """Inside a moto mock: the template's functions and state machines, executing for real."""
    template = template or load_template()
    with (
        patch.dict(default_user_config, MOTO_CONFIG),
        lambda_invocations_to(runtime),
    ):
        iam = boto3.client("iam", region_name=REGION)
        role = iam.create_role(
            RoleName="local-workflow-role",
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        )["Role"]["Arn"]
        lam = boto3.client("lambda", region_name=REGION)
        for name in resources(template, "AWS::Serverless::Function"):
            lam.create_function(
                FunctionName=name,
                Runtime="python3.13",
                Role=role,
                Handler="app.lambda_handler",
                Code={"ZipFile": b"the real handler runs in-process"},
            )
        sfn = boto3.client("stepfunctions", region_name=REGION)
        arns = {}
        for name, resource in resources(template, "AWS::Serverless::StateMachine").items():
            arns[name] = sfn.create_state_machine(
                name=f"{STACK}-{name}",
                definition=definition(name, refs, template),
                roleArn=role,
                type=resource["Properties"].get("Type", "STANDARD"),
            )["stateMachineArn"]
            assert arns[name] == refs[name], "the functions' environment must name this state machine"
        yield Workflows(sfn=sfn, arns=arns)
