"""Time from a status write to the user's notification sent, in-process on moto.

The demo's steps (paid, shipped, delivered, refund approved, refund completed) are written to
OrdersTable one after the other; a background StreamPoller (as the local stack runs it) delivers
the stream to the real notify handler, which sends e-mail, SMS and push. For each step we take
the item's ``updated_at`` (stamped just before the write) and the NOTIFICATION items' ``at``
(stamped when the provider accepted the message). Reports; never fails on timing.

    .venv/bin/python bench/notify_latency.py [--rounds 5] [--poll 0.01]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "shared"), str(ROOT)]
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "1",
        "POWERTOOLS_LOG_LEVEL": "ERROR",
        "POWERTOOLS_METRICS_NAMESPACE": "OrderManagement",
    }
)

import boto3  # noqa: E402
from moto import mock_aws  # noqa: E402

from local_stack.resources import CreatedResources, create_messaging  # noqa: E402
from local_stack.runtime import LambdaRuntime  # noqa: E402
from local_stack.streams import StreamPoller, stream_event_settings  # noqa: E402
from local_stack.template import create_tables, load_template, resources  # noqa: E402
from orders.dal.dynamo import from_item, to_item  # noqa: E402
from orders.models.common import format_ts, utcnow  # noqa: E402

STEPS = ["PAID", "PENDING_SHIPMENT", "SHIPPED", "DELIVERED"]


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def write_status(ddb: Any, order_id: str, status: str, **extra: Any) -> None:
    key = {"PK": {"S": f"ORDER#{order_id}"}, "SK": {"S": "#ORDER"}}
    order = from_item(ddb.get_item(TableName="OrdersTable", Key=key, ConsistentRead=True)["Item"])
    values = {"status": status, "version": order["version"] + 1, "updated_at": format_ts(utcnow()), **extra}
    names = {f"#a{i}": name for i, name in enumerate(values)}
    ddb.update_item(
        TableName="OrdersTable",
        Key=key,
        UpdateExpression="SET " + ", ".join(f"#a{i} = :v{i}" for i in range(len(values))),
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=to_item({f":v{i}": v for i, v in enumerate(values.values())}),
    )


def wait_sent(ddb: Any, order_id: str, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        items = [
            from_item(i)
            for i in ddb.query(
                TableName="OrdersTable",
                KeyConditionExpression="PK = :pk AND begins_with(SK, :p)",
                ExpressionAttributeValues={":pk": {"S": f"ORDER#{order_id}"}, ":p": {"S": "NOTIFY#"}},
                ConsistentRead=True,
            )["Items"]
        ]
        sent = [i for i in items if i.get("status") == "SENT"]
        if len(sent) >= count or time.monotonic() > deadline:
            return sent
        time.sleep(0.02)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--poll", type=float, default=0.01, help="StreamPoller poll interval (s)")
    args = parser.parse_args()
    template = load_template()
    with mock_aws():
        ddb = boto3.client("dynamodb")
        create_tables(ddb, template, {n: n for n in resources(template, "AWS::DynamoDB::Table")})
        apns = boto3.client("sns").create_platform_application(Name="ios", Platform="APNS", Attributes={})[
            "PlatformApplicationArn"
        ]
        refs = (
            {n: n for n in template["Resources"]}
            | {n: str(p.get("Default", "")) for n, p in template["Parameters"].items()}
            | {"AWS::StackName": "bench", "AWS::Region": "us-east-1", "ApnsPlatformApplicationArn": apns}
        )
        created = CreatedResources(refs=refs)
        create_messaging(boto3.client, template, created)
        runtime = LambdaRuntime(refs, base_env=dict(os.environ))
        props = template["Resources"]["NotifyFunction"]["Properties"]["Events"]["OrdersStream"]["Properties"]
        arn = ddb.describe_table(TableName="OrdersTable")["Table"]["LatestStreamArn"]
        settings = stream_event_settings(props) | {"starting_position": "LATEST", "poll_interval": args.poll}
        poller = StreamPoller(
            boto3.client("dynamodbstreams"), arn, lambda e: runtime.invoke("NotifyFunction", e), **settings
        )
        user = "bench-user"
        ddb.put_item(
            TableName="OrdersTable",
            Item=to_item(
                {
                    "PK": f"USER#{user}",
                    "SK": "PREFERENCES",
                    "type": "PREFERENCES",
                    "user_id": user,
                    "channels": ["push", "email", "sms"],
                    "locale": "en",
                    "email": "bench@example.com",
                    "phone": "+447700900123",
                    "updated_at": format_ts(utcnow()),
                }
            ),
        )
        endpoint = boto3.client("sns").create_platform_endpoint(PlatformApplicationArn=apns, Token="f" * 64)
        ddb.put_item(
            TableName="OrdersTable",
            Item=to_item(
                {
                    "PK": f"USER#{user}",
                    "SK": "DEVICE#d1",
                    "type": "DEVICE",
                    "user_id": user,
                    "device_id": "d1",
                    "platform": "ios",
                    "endpoint_arn": endpoint["EndpointArn"],
                    "enabled": True,
                    "created_at": format_ts(utcnow()),
                }
            ),
        )
        poller.start()
        first: list[float] = []
        last: list[float] = []
        try:
            for n in range(args.rounds):
                order_id = f"bench-{n}"
                now = format_ts(utcnow())
                ddb.put_item(
                    TableName="OrdersTable",
                    Item=to_item(
                        {
                            "PK": f"ORDER#{order_id}",
                            "SK": "#ORDER",
                            "type": "ORDER",
                            "order_id": order_id,
                            "user_id": user,
                            "status": "PENDING_PAYMENT",
                            "version": 1,
                            "currency": "USD",
                            "total": 5500,
                            "items": [
                                {"sku": "t", "name": "Tee", "kind": "physical", "quantity": 1, "line_total": 5500}
                            ],
                            "created_at": now,
                            "updated_at": now,
                        }
                    ),
                )
                expected = 0
                for status in STEPS:
                    extra = {"carrier": "DHL", "tracking_number": "JD1"} if status == "SHIPPED" else {}
                    write_status(ddb, order_id, status, **extra)
                    if status == "PENDING_SHIPMENT":
                        continue  # no user notification for this step
                    expected += 3
                    sent = wait_sent(ddb, order_id, expected)
                    step = [s for s in sent if s["event"] == f"order.{status.lower()}"]
                    lat = [(_ts(s["at"]) - _ts(s["changed_at"])).total_seconds() * 1000 for s in step]
                    first.append(min(lat))
                    last.append(max(lat))
        finally:
            poller.stop()
        print(f"steps measured: {len(first)} ({args.rounds} rounds x paid/shipped/delivered), 3 channels each")
        print(f"status write -> first channel sent: median {statistics.median(first):.1f} ms, max {max(first):.1f} ms")
        print(f"status write -> all channels sent:  median {statistics.median(last):.1f} ms, max {max(last):.1f} ms")
        print(f"(poller interval {args.poll * 1000:.0f} ms, moto in-process, notify invocations {poller.invocations})")


if __name__ == "__main__":
    main()
