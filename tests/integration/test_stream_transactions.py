"""Stream delivery through refused and rolled-back transactions, as DynamoDB streams behave.

A TransactWriteItems that is cancelled writes nothing, so its stream has nothing to say about it;
and the writes after it are delivered as any other. (moto once replaced the whole table on a
rollback, which left every poller on a dead shard and kept the records of the writes it undid.)
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from local_stack.streams import StreamPoller
from tests.integration.conftest import Api
from tests.integration.helpers import PHYSICAL, VIRTUAL, place, placed, set_stock
from tests.integration.notify_support import Notify, outbox

TABLE = "OrdersTable"


class Seen:
    """A stream consumer that keeps the keys and event names it was given."""

    def __init__(self) -> None:
        self.records: list[tuple[str, str, str]] = []

    def __call__(self, event: dict[str, Any]) -> None:
        for record in event["Records"]:
            keys = record["dynamodb"]["Keys"]
            self.records.append((record["eventName"], keys["PK"]["S"], keys["SK"]["S"]))


@pytest.fixture
def seen(aws: None) -> tuple[Seen, StreamPoller]:
    arn = boto3.client("dynamodb", region_name="us-east-1").describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    consumer = Seen()
    poller = StreamPoller(
        boto3.client("dynamodbstreams", region_name="us-east-1"), arn, consumer, starting_position="LATEST"
    )
    return consumer, poller


def item(pk: str, sk: str = "#ORDER", **extra: str) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": sk}, **{k: {"S": v} for k, v in extra.items()}}


def refused_transaction(ddb: Any) -> None:
    """A Put of a new item, then an Update whose condition fails: DynamoDB cancels both."""
    with pytest.raises(ClientError) as refused:
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": TABLE, "Item": item("ORDER#ghost")}},
                {
                    "Update": {
                        "TableName": TABLE,
                        "Key": {"PK": {"S": "ORDER#a"}, "SK": {"S": "#ORDER"}},
                        "UpdateExpression": "SET #s = :new",
                        "ConditionExpression": "#s = :expected",
                        "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": {":new": {"S": "PAID"}, ":expected": {"S": "NOT-THIS"}},
                    }
                },
            ]
        )
    assert refused.value.response["Error"]["Code"] == "TransactionCanceledException"


def test_writes_after_a_refused_transaction_reach_the_consumer(ddb: Any, seen: tuple[Seen, StreamPoller]) -> None:
    consumer, poller = seen
    # Given an item, delivered
    ddb.put_item(TableName=TABLE, Item=item("ORDER#a", status="PENDING"))
    poller.drain()
    # When a transaction is refused, and then a write succeeds
    refused_transaction(ddb)
    ddb.put_item(TableName=TABLE, Item=item("ORDER#b", status="PENDING"))
    poller.drain()
    # Then the consumer saw both successful writes, and nothing of the refused transaction
    assert consumer.records == [("INSERT", "ORDER#a", "#ORDER"), ("INSERT", "ORDER#b", "#ORDER")]


def test_a_refused_transaction_leaves_no_record_even_when_read_mid_way(
    ddb: Any, seen: tuple[Seen, StreamPoller]
) -> None:
    consumer, poller = seen
    ddb.put_item(TableName=TABLE, Item=item("ORDER#a", status="PENDING"))
    # When a transaction whose first write would apply is cancelled by its second
    refused_transaction(ddb)
    poller.drain()
    # Then the ghost item does not exist, and no record speaks of it
    assert "Item" not in ddb.get_item(TableName=TABLE, Key={"PK": {"S": "ORDER#ghost"}, "SK": {"S": "#ORDER"}})
    assert consumer.records == [("INSERT", "ORDER#a", "#ORDER")]


def test_a_transaction_failing_while_it_writes_is_undone_without_records(
    ddb: Any, seen: tuple[Seen, StreamPoller]
) -> None:
    consumer, poller = seen
    ddb.put_item(TableName=TABLE, Item=item("ORDER#a", status="PENDING", note="text"))
    ddb.put_item(TableName=TABLE, Item=item("ORDER#c", status="PENDING"))
    poller.drain()
    # When a transaction passes its conditions but its last write cannot apply (ADD to a string)
    with pytest.raises(ClientError):
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": TABLE, "Item": item("ORDER#ghost")}},
                {
                    "Update": {
                        "TableName": TABLE,
                        "Key": {"PK": {"S": "ORDER#c"}, "SK": {"S": "#ORDER"}},
                        "UpdateExpression": "SET #s = :paid",
                        "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": {":paid": {"S": "PAID"}},
                    }
                },
                {
                    "Update": {
                        "TableName": TABLE,
                        "Key": {"PK": {"S": "ORDER#a"}, "SK": {"S": "#ORDER"}},
                        "UpdateExpression": "ADD note :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
            ]
        )
    ddb.put_item(TableName=TABLE, Item=item("ORDER#d"))
    poller.drain()
    # Then every item is as before, and the stream holds only the writes that happened
    assert "Item" not in ddb.get_item(TableName=TABLE, Key={"PK": {"S": "ORDER#ghost"}, "SK": {"S": "#ORDER"}})
    c = ddb.get_item(TableName=TABLE, Key={"PK": {"S": "ORDER#c"}, "SK": {"S": "#ORDER"}})["Item"]
    assert c["status"] == {"S": "PENDING"}
    assert consumer.records == [
        ("INSERT", "ORDER#a", "#ORDER"),
        ("INSERT", "ORDER#c", "#ORDER"),
        ("INSERT", "ORDER#d", "#ORDER"),
    ]


def test_a_committed_transaction_is_delivered_in_order(ddb: Any, seen: tuple[Seen, StreamPoller]) -> None:
    consumer, poller = seen
    ddb.put_item(TableName=TABLE, Item=item("ORDER#a", status="PENDING"))
    ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": TABLE, "Item": item("ORDER#a", "EVENT#1")}},
            {
                "Update": {
                    "TableName": TABLE,
                    "Key": {"PK": {"S": "ORDER#a"}, "SK": {"S": "#ORDER"}},
                    "UpdateExpression": "SET #s = :paid",
                    "ConditionExpression": "#s = :pending",
                    "ExpressionAttributeNames": {"#s": "status"},
                    "ExpressionAttributeValues": {":paid": {"S": "PAID"}, ":pending": {"S": "PENDING"}},
                }
            },
            {"Delete": {"TableName": TABLE, "Key": {"PK": {"S": "ORDER#a"}, "SK": {"S": "GONE"}}}},
        ]
    )
    poller.drain()
    assert consumer.records == [
        ("INSERT", "ORDER#a", "#ORDER"),
        ("INSERT", "ORDER#a", "EVENT#1"),
        ("MODIFY", "ORDER#a", "#ORDER"),
    ]


def test_an_out_of_stock_order_notifies_nobody_and_the_next_order_is_delivered(
    notify: Notify, api: Api, ddb: Any
) -> None:
    # Given no mugs left
    set_stock(ddb, "mug-classic", 0)
    # When a user orders one (the order's transaction is cancelled by the stock condition)
    refused = place(api, PHYSICAL)
    assert (refused.status, refused.body["code"]) == (409, "OUT_OF_STOCK")
    notify.drain()
    # Then no order exists, and nothing was published about one: notify wrote no outbox item
    assert ddb.scan(TableName=TABLE, Select="COUNT")["Count"] == 0
    assert notify.queue_events("WarehouseQueue") == []
    # When another user orders a virtual good
    order = placed(api, VIRTUAL, user="user-0002")
    notify.drain()
    # Then its creation went down the stream to notify, which published it
    events = outbox(ddb, order["order_id"], "EVENT#")
    assert [e["SK"].split("#")[1] for e in events] and len(events) == 1
    assert notify.given_up == []


def test_shard_iterators_expire_as_on_aws_and_moto_forgets_them(aws: None) -> None:
    import time

    from moto.dynamodbstreams.models import dynamodbstreams_backends

    from local_stack.moto_patches import expiring_stream_iterators

    streams = boto3.client("dynamodbstreams", region_name="us-east-1")
    arn = boto3.client("dynamodb", region_name="us-east-1").describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    backend = dynamodbstreams_backends["123456789012"]["us-east-1"]
    with expiring_stream_iterators(lifetime=0.2):
        # Given an iterator, read many times over (each read hands out a next iterator)
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")["ShardIterator"]
        for _ in range(5):
            iterator = streams.get_records(ShardIterator=iterator)["NextShardIterator"]
        # When it is older than an iterator lives
        time.sleep(0.3)
        fresh = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")["ShardIterator"]
        # Then using it is ExpiredIteratorException, and moto keeps only the live one
        with pytest.raises(ClientError) as expired:
            streams.get_records(ShardIterator=iterator)
        assert expired.value.response["Error"]["Code"] == "ExpiredIteratorException"
        assert list(backend.shard_iterators) == [fresh]
