"""Integration fixtures: moto with every table of template.yaml, and the real handlers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local_stack.moto_patches import atomic_dynamodb_writes
from local_stack.resources import LOCAL_SECRET_VALUES, LOCAL_SENDER, base_refs, create_secrets, seed_catalog
from local_stack.runtime import LambdaRuntime
from local_stack.template import ROOT, create_tables, load_template, resources
from tests.conftest import FAKE_AWS_ENV
from tests.integration.notify_support import Notify

TEMPLATE = load_template()
# As the local stack resolves them: a resource's physical name is its logical id, parameters
# take their defaults, and every resource has a placeholder ARN until something creates it.
REFS = base_refs(TEMPLATE) | {"SenderEmail": LOCAL_SENDER}
SEED = json.loads((ROOT / "local_stack" / "catalog.json").read_text())


@dataclass
class HttpResult:
    status: int
    body: Any
    headers: dict[str, str]


class Api:
    """Calls a function of the template with an API Gateway event and decodes the response."""

    def __init__(self, runtime: LambdaRuntime) -> None:
        self.runtime = runtime
        self._function_of = {
            (route.method, route.path): spec.logical_id for spec in runtime.specs.values() for route in spec.routes
        }

    def __call__(self, event: dict[str, Any]) -> HttpResult:
        logical_id = self._function_of[(event["httpMethod"], event["resource"])]
        response = self.runtime.invoke(logical_id, event)
        body = response.get("body")
        return HttpResult(
            status=response["statusCode"],
            body=json.loads(body) if body else None,
            headers=response.get("headers") or {},
        )


def put_secret(logical_id: str, value: str) -> None:
    """Put a value in one of the stack's secrets (named by logical id), as an operator does with `make secrets`."""
    boto3.client("secretsmanager", region_name="us-east-1").put_secret_value(SecretId=logical_id, SecretString=value)


@pytest.fixture
def aws() -> Iterator[None]:
    from orders import cache
    from orders.dal.dynamo import dynamodb_client

    with mock_aws(), atomic_dynamodb_writes():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_tables(client, TEMPLATE, {name: name for name in resources(TEMPLATE, "AWS::DynamoDB::Table")})
        seed_catalog(client, "CatalogTable", SEED)
        # The secrets exist (named by logical id, as REFS resolves them) with the local-only values.
        create_secrets(boto3.client("secretsmanager", region_name="us-east-1"), TEMPLATE, {}, LOCAL_SECRET_VALUES)
        dynamodb_client.cache_clear()
        cache.reset()
        yield


@pytest.fixture
def runtime(aws: None) -> LambdaRuntime:
    return LambdaRuntime(REFS, base_env=FAKE_AWS_ENV)


@pytest.fixture
def api(runtime: LambdaRuntime) -> Api:
    return Api(runtime)


@pytest.fixture
def ddb(aws: None) -> Any:
    return boto3.client("dynamodb", region_name="us-east-1")


@pytest.fixture
def notify(runtime: LambdaRuntime) -> Notify:
    """notify on moto: SES sender verified, an APNs platform application, the bus and team queues,
    and a StreamPoller on OrdersTable's stream delivering to the real handler (settings from the template)."""
    from local_stack.resources import CreatedResources, create_messaging
    from local_stack.streams import StreamPoller, stream_event_settings

    sns = boto3.client("sns", region_name="us-east-1")
    apns = sns.create_platform_application(Name="orders-ios", Platform="APNS", Attributes={})["PlatformApplicationArn"]
    # The shared runtime (also behind the `api` fixture) sees the platform application as deployed.
    runtime.set_ref("ApnsPlatformApplicationArn", apns)
    created = CreatedResources(refs=dict(runtime.refs))
    create_messaging(lambda service: boto3.client(service, region_name="us-east-1"), TEMPLATE, created)
    for name, value in created.refs.items():
        if runtime.refs.get(name) != value:
            runtime.set_ref(name, value)
    queues = {name: created.refs[name] for name in resources(TEMPLATE, "AWS::SQS::Queue")}
    stream_arn = boto3.client("dynamodb", region_name="us-east-1").describe_table(TableName="OrdersTable")["Table"][
        "LatestStreamArn"
    ]
    settings = stream_event_settings(
        TEMPLATE["Resources"]["NotifyFunction"]["Properties"]["Events"]["OrdersStream"]["Properties"]
    )
    given_up: list[dict[str, Any]] = []
    poller = StreamPoller(
        boto3.client("dynamodbstreams", region_name="us-east-1"),
        stream_arn,
        lambda event: runtime.invoke("NotifyFunction", event),
        on_failure=given_up.append,
        **settings,
    )
    return Notify(runtime=runtime, poller=poller, queues=queues, apns_arn=apns, given_up=given_up)
