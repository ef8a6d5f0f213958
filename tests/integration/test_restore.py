"""Restoring the local stack's saved state does the same work for each order, however many there are.

A restore used to stall at 10,000 orders: the refunds waiting for a review were found with a Scan
through moto, which sorts and walks the whole table again for each 1 MB page (quadratic), and each
item went through ``Table.put_item``, which re-measures the item on every attribute. The measure
here is moto's own work, counted (values built, compared, sized), not time: it must grow like the
number of orders.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.dynamodb.models.dynamo_type import DynamoType

from local_stack.persistence import rearm_waiting_tasks, restore_tables
from local_stack.resources import CreatedResources, state_machine_definition
from tests.integration.conftest import REFS, TEMPLATE

TABLES = {"OrdersTable": "OrdersTable", "CatalogTable": "CatalogTable"}
REVIEW_MACHINE = "RefundStateMachine"
ITEMS_PER_ORDER = 9


def order_items(n: int) -> list[dict[str, Any]]:
    """An order as the product stores it: the order, its timeline, a ledger entry, a refund waiting for
    review, notifications."""
    order_id, pk = f"ord_{n:08d}", {"S": f"ORDER#ord_{n:08d}"}
    at = "2026-11-29T01:11:53.957472Z"
    order = {
        "PK": pk,
        "SK": {"S": "#ORDER"},
        "type": {"S": "ORDER"},
        "GSI1PK": {"S": "USER#client"},
        "GSI1SK": {"S": f"{at}#{order_id}"},
        "order_id": {"S": order_id},
        "user_id": {"S": "client"},
        "status": {"S": "REFUND_REQUESTED"},
        "items": {"L": [{"M": {"sku": {"S": "coins-500"}, "quantity": {"N": "1"}, "unit_price": {"N": "499"}}}]},
        "currency": {"S": "USD"},
        "total": {"N": "499"},
        "version": {"N": "5"},
        "created_at": {"S": at},
        "reserved": {"M": {}},
        "stock_returned": {"BOOL": False},
    }
    timeline = [
        {"PK": pk, "SK": {"S": f"#TL#{v:010d}"}, "type": {"S": "EVENT"}, "version": {"N": str(v)}, "at": {"S": at}}
        for v in range(1, 5)
    ]
    ledger = {"PK": pk, "SK": {"S": "PAY#evt_1"}, "type": {"S": "PAYMENT"}, "amount": {"N": "499"}}
    refund = {
        "PK": pk,
        "SK": {"S": f"REFUND#ref_{n:08d}"},
        "type": {"S": "REFUND"},
        "refund_id": {"S": f"ref_{n:08d}"},
        "order_id": {"S": order_id},
        "status": {"S": "PENDING_REVIEW"},
        "task_token": {"S": "token-of-the-execution-before-the-restart"},
        "review_due_at": {"S": "2099-01-01T00:00:00Z"},
    }
    # notify's outbox: an email's text is most of an order's bytes (a saved order is ~4 KB, as the real ones)
    outbox = [
        {
            "PK": pk,
            "SK": {"S": f"NOTIFY#{event}"},
            "type": {"S": "NOTIFICATION"},
            "subject": {"S": f"Your order {order_id}: {event}"},
            "body": {"S": f"Hello, your order {order_id} is {event}. " * 25},
        }
        for event in ("created", "paid")
    ]
    return [order, *timeline, ledger, refund, *outbox]


def save(directory: Path, orders: int) -> Path:
    """A saved state, as ``save_tables`` writes it: one item per line in DynamoDB JSON."""
    (directory / "dynamodb").mkdir(parents=True)
    lines = [json.dumps(item) for n in range(orders) for item in order_items(n)]
    (directory / "dynamodb" / "OrdersTable.jsonl").write_text("\n".join(lines) + "\n")
    return directory


class StepFunctions:
    """The two calls a re-arm makes: the review machine's definition (the template's), and starts."""

    def __init__(self) -> None:
        self.started: list[dict[str, Any]] = []
        self.definition = state_machine_definition(TEMPLATE["Resources"][REVIEW_MACHINE], REFS)

    def describe_state_machine(self, stateMachineArn: str) -> dict[str, Any]:
        return {"name": REVIEW_MACHINE, "definition": json.dumps(self.definition), "roleArn": "role"}

    def create_state_machine(self, **kwargs: Any) -> dict[str, Any]:
        return {"stateMachineArn": "arn:resume"}

    def start_execution(self, stateMachineArn: str, input: str) -> dict[str, str]:
        self.started.append(json.loads(input))
        return {"executionArn": f"arn:execution:{len(self.started)}"}


@contextmanager
def counting_moto_work() -> Iterator[Callable[[], int]]:
    """Counts moto's DynamoDB value work: values built, compared and sized (every thread)."""
    count = 0
    names = ("__init__", "__lt__", "__eq__", "size")
    originals = {name: getattr(DynamoType, name) for name in names}

    def counted(original: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            nonlocal count
            count += 1
            return original(*args, **kwargs)

        return wrapper

    for name, original in originals.items():
        setattr(DynamoType, name, counted(original))
    try:
        yield lambda: count
    finally:
        for name, original in originals.items():
            setattr(DynamoType, name, original)


def restore_and_rearm(directory: Path) -> tuple[int, int, StepFunctions]:
    sfn = StepFunctions()
    created = CreatedResources(refs=dict(REFS), tables=dict(TABLES), state_machines={REVIEW_MACHINE: "arn:machine"})
    with counting_moto_work() as work:
        restored = restore_tables(directory, TABLES)
        rearm_waiting_tasks(sfn, created)
        return restored, work(), sfn


def empty_orders_table() -> None:
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].tables["OrdersTable"].items.clear()


@pytest.mark.usefixtures("aws")
def test_restore_and_rearm_work_grows_like_the_number_of_orders(tmp_path: Path) -> None:
    # Given saved states of 100 and of 1,600 orders (1,600 fill seven 1 MB pages of a Scan)
    small, large = save(tmp_path / "small", 100), save(tmp_path / "large", 1600)
    # When each is restored (into empty tables) and its waiting reviews re-armed
    restored_small, work_small, _ = restore_and_rearm(small)
    empty_orders_table()
    restored_large, work_large, sfn = restore_and_rearm(large)
    # Then every item is back and every waiting review is re-armed, once
    assert (restored_small, restored_large) == (100 * ITEMS_PER_ORDER, 1600 * ITEMS_PER_ORDER)
    assert sorted(e["refund_id"] for e in sfn.started) == [f"ref_{n:08d}" for n in range(1600)]
    # and moto did as much work per order for 1,600 orders as for 100 (the quadratic one did 1.7x as much)
    per_order_small, per_order_large = work_small / 100, work_large / 1600
    assert per_order_large <= 1.1 * per_order_small, (per_order_small, per_order_large)


@pytest.mark.usefixtures("aws")
def test_restored_items_are_served_as_written_and_make_no_stream_records(tmp_path: Path) -> None:
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    streams = boto3.client("dynamodbstreams", region_name="us-east-1")
    arn = ddb.describe_table(TableName="OrdersTable")["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    # Given a saved state of 3 orders
    state = save(tmp_path / "state", 3)
    # When it is restored
    restore_tables(state, TABLES)
    # Then each item reads back exactly as saved (get, query and a GSI query)
    for item in order_items(1):
        key = {"PK": item["PK"], "SK": item["SK"]}
        assert ddb.get_item(TableName="OrdersTable", Key=key, ConsistentRead=True)["Item"] == item
    by_user = ddb.query(
        TableName="OrdersTable",
        IndexName="GSI1",
        KeyConditionExpression="GSI1PK = :u",
        ExpressionAttributeValues={":u": {"S": "USER#client"}},
    )["Items"]
    assert [i["order_id"]["S"] for i in by_user] == ["ord_00000000", "ord_00000001", "ord_00000002"]
    # and the stream holds nothing to deliver again (stream consumers read it from its start)
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    assert streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"] == []
    # while a write after the restore is on the stream, as any write is
    ddb.put_item(TableName="OrdersTable", Item={"PK": {"S": "ORDER#new"}, "SK": {"S": "#ORDER"}})
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    assert len(streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]) == 1
