"""Reads while another thread writes, as DynamoDB serves them: never an error, never half an item.

moto's reads walk the dicts a write is changing; a workflow worker writing while a handler reads
once raised "dictionary changed size during iteration" (a 500 DynamoDB never gives). The local
stack's moto patches make every read wait for the write in progress (local_stack/moto_patches.py).
"""

from __future__ import annotations

import threading
from typing import Any

import boto3

from local_stack.moto_patches import WRITE_LOCK

TABLE = "OrdersTable"
KEY = {"PK": {"S": "ORDER#ord_race"}, "SK": {"S": "META"}}


def _client() -> Any:
    return boto3.client("dynamodb", region_name="us-east-1")


def test_a_read_waits_for_the_write_in_progress(aws: None) -> None:
    # Given an item, and a write in progress in another thread (it holds the write lock)
    ddb = _client()
    ddb.put_item(TableName=TABLE, Item=KEY | {"status": {"S": "OLD"}})
    writing, read_done, result = threading.Event(), threading.Event(), {}

    def read() -> None:
        writing.wait()
        result["item"] = ddb.get_item(TableName=TABLE, Key=KEY, ConsistentRead=True)["Item"]
        result["query"] = ddb.query(
            TableName=TABLE,
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": KEY["PK"]},
        )["Items"]
        read_done.set()

    reader = threading.Thread(target=read)
    reader.start()
    with WRITE_LOCK:
        writing.set()
        # When a read comes in during the write
        waited = not read_done.wait(0.5)
        ddb.put_item(TableName=TABLE, Item=KEY | {"status": {"S": "NEW"}})
    reader.join(10)
    # Then it waited for the write, and saw it whole
    assert waited
    assert result["item"]["status"] == {"S": "NEW"}
    assert [item["status"] for item in result["query"]] == [{"S": "NEW"}]


def test_reads_during_many_writes_never_fail(aws: None) -> None:
    # Given a writer that adds and removes attributes of one item, over and over
    ddb = _client()
    ddb.put_item(TableName=TABLE, Item=KEY | {"n": {"N": "0"}})
    errors: list[BaseException] = []
    stop = threading.Event()

    def write() -> None:
        for n in range(1, 400):
            extra = {f"a{i}": {"S": "x"} for i in range(n % 20)}
            ddb.put_item(TableName=TABLE, Item=KEY | {"n": {"N": str(n)}} | extra)
        stop.set()

    def read() -> None:
        try:
            while not stop.is_set():
                ddb.get_item(TableName=TABLE, Key=KEY, ConsistentRead=True)
                ddb.scan(TableName=TABLE, Limit=5)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=write), threading.Thread(target=read), threading.Thread(target=read)]
    # When they run at once
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    # Then no read failed, and the last write is what is stored
    assert errors == []
    assert ddb.get_item(TableName=TABLE, Key=KEY)["Item"]["n"] == {"N": "399"}
