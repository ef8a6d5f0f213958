"""Helpers for the notify tests: the messaging resources, status writes, and what moto saw sent."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import boto3
from moto.ses.models import ses_backends
from moto.sns.models import sns_backends

from local_stack.runtime import LambdaRuntime
from local_stack.streams import StreamPoller
from orders.dal.dynamo import from_item, to_item
from orders.models.common import format_ts, utcnow

REGION = "us-east-1"
DEFAULT_ACCOUNT_ID = "123456789012"  # moto's account


@dataclass
class Notify:
    """notify wired to moto: the runtime, a poller on OrdersTable's stream, the team queues."""

    runtime: LambdaRuntime
    poller: StreamPoller
    queues: dict[str, str]
    apns_arn: str
    given_up: list[dict[str, Any]] = field(default_factory=list)

    def drain(self) -> None:
        self.poller.drain()

    def invoke(self, event: dict[str, Any]) -> Any:
        return self.runtime.invoke("NotifyFunction", event)

    # --- what was sent ---------------------------------------------------------------------------
    @staticmethod
    def emails() -> list[Any]:
        return list(ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages)

    @staticmethod
    def sms() -> list[tuple[str, str]]:
        return list(sns_backends[DEFAULT_ACCOUNT_ID][REGION].sms_messages.values())

    @staticmethod
    def pushes(endpoint_arn: str) -> list[dict[str, Any]]:
        endpoint = sns_backends[DEFAULT_ACCOUNT_ID][REGION].platform_endpoints[endpoint_arn]
        return [json.loads(message) for message in endpoint.messages.values()]

    def queue_events(self, queue: str) -> list[dict[str, Any]]:
        sqs = boto3.client("sqs", region_name=REGION)
        out: list[dict[str, Any]] = []
        while True:
            got = sqs.receive_message(QueueUrl=self.queues[queue], MaxNumberOfMessages=10).get("Messages", [])
            if not got:
                return out
            for message in got:
                out.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self.queues[queue], ReceiptHandle=message["ReceiptHandle"])


def outbox(ddb: Any, order_id: str, prefix: str = "NOTIFY#") -> list[dict[str, Any]]:
    response = ddb.query(
        TableName="OrdersTable",
        KeyConditionExpression="PK = :pk AND begins_with(SK, :p)",
        ExpressionAttributeValues={":pk": {"S": f"ORDER#{order_id}"}, ":p": {"S": prefix}},
    )
    return [from_item(item) for item in response["Items"]]


def write_status(ddb: Any, order_id: str, status: str, **extra: Any) -> dict[str, Any]:
    """A status write as the other functions make it: conditional on the version, version + 1."""
    key = {"PK": {"S": f"ORDER#{order_id}"}, "SK": {"S": "#ORDER"}}
    order = from_item(ddb.get_item(TableName="OrdersTable", Key=key)["Item"])
    values = {"status": status, "version": order["version"] + 1, "updated_at": format_ts(utcnow()), **extra}
    names = {f"#a{i}": name for i, name in enumerate(values)}
    ddb.update_item(
        TableName="OrdersTable",
        Key=key,
        UpdateExpression="SET " + ", ".join(f"#a{i} = :v{i}" for i in range(len(values))),
        ConditionExpression="#v = :old",
        ExpressionAttributeNames=names | {"#v": "version"},
        ExpressionAttributeValues=to_item({f":v{i}": v for i, v in enumerate(values.values())})
        | {":old": {"N": str(order["version"])}},
    )
    return order | values


def put_item(ddb: Any, data: dict[str, Any]) -> None:
    ddb.put_item(TableName="OrdersTable", Item=to_item(data))
