"""The table's stream keeps flowing after a refused TransactWriteItems (moto's rollback, patched)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from local_stack.streams import StreamPoller


def test_records_after_a_refused_transaction_still_reach_the_poller(ddb: Any) -> None:
    arn = ddb.describe_table(TableName="OrdersTable")["Table"]["LatestStreamArn"]
    seen: list[str] = []

    def consume(batch: dict[str, Any]) -> None:
        seen.extend(r["dynamodb"]["Keys"]["PK"]["S"] + "/" + r["eventName"] for r in batch["Records"])

    poller = StreamPoller(boto3.client("dynamodbstreams", region_name="us-east-1"), arn, consume)
    put = {"TableName": "OrdersTable", "Item": {"PK": {"S": "A"}, "SK": {"S": "x"}}}
    ddb.put_item(**put)
    poller.drain()
    # Given a transaction refused by its condition (its first write would have succeeded)
    with pytest.raises(ClientError):
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "OrdersTable", "Item": {"PK": {"S": "B"}, "SK": {"S": "x"}}}},
                {"Put": {**put, "ConditionExpression": "attribute_not_exists(PK)"}},
            ]
        )
    # When another write follows
    ddb.put_item(TableName="OrdersTable", Item={"PK": {"S": "C"}, "SK": {"S": "x"}})
    poller.drain()
    # Then the poller sees it, and nothing of the refused transaction
    assert seen == ["A/INSERT", "C/INSERT"]
