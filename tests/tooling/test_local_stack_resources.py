"""The local stack creates every kind of resource from a template, and runs state machines for real.

Uses tests/tooling/fixtures/stack/template.yaml, which has the kinds template.yaml does not
use yet: a state machine (DefinitionUri + DefinitionSubstitutions), a topic, queues with a
redrive policy, an event bus and a rule targeting a queue.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from local_stack.resources import LOCAL_SECRET_VALUES, base_refs, create_secrets
from local_stack.runtime import LambdaRuntime
from local_stack.stack import LocalStack
from local_stack.template import load_template

FIXTURE = Path(__file__).parent / "fixtures" / "stack" / "template.yaml"


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(port=0, template_path=FIXTURE, seed=False) as running:
        yield running


def wait_for(probe: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := probe():
            return result
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_tables_keep_indexes_stream_and_ttl(stack: LocalStack) -> None:
    # Given the fixture template's table with a GSI, a stream and a TTL
    ddb = stack.client("dynamodb")
    # When the stack has started
    table = ddb.describe_table(TableName="JobsTable")["Table"]
    ttl = ddb.describe_time_to_live(TableName="JobsTable")["TimeToLiveDescription"]
    # Then they are all there, and the stream ARN is resolvable as a GetAtt
    assert [index["IndexName"] for index in table["GlobalSecondaryIndexes"]] == ["GSI1"]
    assert table["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert ttl["AttributeName"] == "expires"
    assert stack.created is not None
    assert stack.created.refs["JobsTable.StreamArn"] == table["LatestStreamArn"]


def test_function_environment_resolves_every_kind_of_ref(stack: LocalStack) -> None:
    # Given a function whose environment names a table, a topic, a bus and a queue
    assert stack.runtime is not None
    # When its environment is resolved
    env = stack.runtime.environment("StepFunction")
    # Then each is the local resource's Ref value
    assert env["JOBS_TABLE"] == "JobsTable"
    assert env["ALERTS_TOPIC"] in stack.client("sns").list_topics()["Topics"][0]["TopicArn"]
    assert env["BUS_NAME"] == "orders-dev"
    assert env["WAREHOUSE_QUEUE"].endswith("/WarehouseQueue")
    redrive = stack.client("sqs").get_queue_attributes(QueueUrl=env["WAREHOUSE_QUEUE"], AttributeNames=["All"])
    assert json.loads(redrive["Attributes"]["RedrivePolicy"])["maxReceiveCount"] == 3


def test_stream_consumers_get_a_poller_with_their_event_settings(stack: LocalStack) -> None:
    # Given a function with a DynamoDB event on the table's stream
    # Then the stack runs a poller on the stream's real ARN, with the event's batch size
    assert [(function, poller.stream_arn) for function, poller in stack.pollers] == [
        ("StepFunction", stack.created.refs["JobsTable.StreamArn"] if stack.created else "")
    ]
    assert stack.pollers[0][1].batch_size == 10


def test_rule_routes_bus_events_to_its_queue_and_the_tap_sees_them(stack: LocalStack) -> None:
    # Given the rule OrderPaid on orders-dev → WarehouseQueue
    events, sqs = stack.client("events"), stack.client("sqs")
    url = sqs.get_queue_url(QueueName="WarehouseQueue")["QueueUrl"]
    # When two events are put on the bus, one matching the rule
    events.put_events(
        Entries=[
            {
                "EventBusName": "orders-dev",
                "Source": "orders",
                "DetailType": "OrderPaid",
                "Detail": '{"order_id": "o1"}',
            },
            {"EventBusName": "orders-dev", "Source": "orders", "DetailType": "OrderShipped", "Detail": "{}"},
        ]
    )
    # Then only the matching one reaches the queue
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(m["Body"])["detail"] for m in messages] == [{"order_id": "o1"}]
    # And /_local/events shows both, with their bus
    seen = requests.get(f"{stack.url}/_local/events", timeout=10).json()["items"]
    assert [(e["detail-type"], e["bus"]) for e in seen] == [("OrderPaid", "orders-dev"), ("OrderShipped", "orders-dev")]
    assert seen[0]["source"] == "orders"


def test_state_machine_runs_lambda_task_in_process_and_waits_for_the_task_token(stack: LocalStack) -> None:
    # Given the review state machine: a Lambda task, then a task-token wait stored on a table item
    sfn, ddb = stack.client("stepfunctions"), stack.client("dynamodb")
    assert stack.created is not None
    machine = stack.created.state_machines["ReviewStateMachine"]
    ddb.put_item(TableName="JobsTable", Item={"PK": {"S": "job-1"}})
    # When an execution starts
    # (moto's server names an unnamed execution "None": pass a name, as the product should anyway)
    execution = sfn.start_execution(
        stateMachineArn=machine, name="job-1", input=json.dumps({"job_id": "job-1", "amount": 21})
    )
    # Then the real handler ran (its answer is on the way) and the execution waits with its token stored
    token = wait_for(
        lambda: ddb.get_item(TableName="JobsTable", Key={"PK": {"S": "job-1"}})["Item"].get("task_token", {}).get("S")
    )
    assert sfn.describe_execution(executionArn=execution["executionArn"])["status"] == "RUNNING"
    # When a reviewer's decision resumes it
    sfn.send_task_success(taskToken=token, output=json.dumps({"decision": "approve"}))
    # Then it succeeds with the Lambda's result and the decision
    done = wait_for(
        lambda: (d := sfn.describe_execution(executionArn=execution["executionArn"]))["status"] != "RUNNING" and d
    )
    assert done["status"] == "SUCCEEDED", done
    output = json.loads(done["output"])
    assert output["price"]["priced"] == {"amount": 42, "table": "JobsTable", "function": "StepFunction"}
    assert output["decision"] == {"decision": "approve"}


def test_a_failing_lambda_task_is_caught_by_the_state_machine(stack: LocalStack) -> None:
    # Given the review state machine, whose Lambda task has a Catch
    sfn = stack.client("stepfunctions")
    assert stack.created is not None
    machine = stack.created.state_machines["ReviewStateMachine"]
    # When the real handler raises
    execution = sfn.start_execution(
        stateMachineArn=machine, name="job-2", input=json.dumps({"job_id": "job-2", "fail": True})
    )
    # Then the failure reaches the definition as a Lambda error (X-Amz-Function-Error), and its Catch runs
    done = wait_for(
        lambda: (d := sfn.describe_execution(executionArn=execution["executionArn"]))["status"] != "RUNNING" and d
    )
    assert (done["status"], done.get("error")) == ("FAILED", "PricingFailed")
    history = sfn.get_execution_history(executionArn=execution["executionArn"])["events"]
    failed = [e for e in history if e["type"] == "LambdaFunctionFailed" or e["type"] == "TaskFailed"]
    assert failed
    assert "asked to fail for job-2" in json.dumps(failed[0], default=str)


def test_functions_see_the_local_endpoints_and_local_only_stripe_secrets(stack: LocalStack) -> None:
    # Given the stack's local deployment parameters
    assert stack.runtime is not None
    assert stack.stripe_server is not None
    assert stack.created is not None
    # Then every function talks to moto
    assert stack.runtime.environment("StepFunction")["AWS_ENDPOINT_URL"] == stack.moto_endpoint
    # And the real template's payment functions use the fake provider, and find the published
    # local-only values in moto's Secrets Manager (never in their environment)
    template = load_template()
    secrets = stack.client("secretsmanager")
    refs = base_refs(template) | stack.parameter_overrides()
    create_secrets(secrets, template, refs, LOCAL_SECRET_VALUES)  # what the stack does for the real template
    real = LambdaRuntime(refs, template=template)
    env = real.environment("PaymentsFunction")
    assert env["STRIPE_API_BASE"] == stack.stripe_server.url
    assert "STRIPE_API_KEY" not in env
    webhook_arn = real.environment("PaymentWebhookFunction")["STRIPE_WEBHOOK_SECRET_ARN"]
    assert (
        secrets.get_secret_value(SecretId=env["STRIPE_API_KEY_SECRET_ARN"])["SecretString"],
        secrets.get_secret_value(SecretId=webhook_arn)["SecretString"],
    ) == ("sk_test_local_only_not_a_secret", "whsec_local_only_not_a_secret")
