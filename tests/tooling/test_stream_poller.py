"""StreamPoller: Lambda's event source mapping contract, against a fake dynamodbstreams client."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from local_stack.streams import StreamPoller, stream_event_settings

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/OrdersTable/stream/2026-11-22T00:00:00.000"


class FakeStreams:
    """One shard; records as boto3's dynamodbstreams client returns them."""

    def __init__(self, count: int) -> None:
        self.records: list[dict[str, Any]] = [
            {
                "eventID": f"e{i}",
                "eventName": "INSERT",
                "eventVersion": "1.0",
                "eventSource": "aws:dynamodb",
                "awsRegion": "us-east-1",
                "dynamodb": {
                    "ApproximateCreationDateTime": datetime(2026, 11, 22, tzinfo=UTC),
                    "Keys": {"PK": {"S": f"k{i}"}},
                    "NewImage": {"PK": {"S": f"k{i}"}, "blob": {"B": b"\x00\x01"}},
                    "SequenceNumber": str(100 + i),
                    "SizeBytes": 10,
                    "StreamViewType": "NEW_AND_OLD_IMAGES",
                },
            }
            for i in range(count)
        ]

    def describe_stream(self, StreamArn: str) -> dict[str, Any]:
        return {"StreamDescription": {"StreamViewType": "NEW_AND_OLD_IMAGES", "Shards": [{"ShardId": "s-1"}]}}

    def get_shard_iterator(self, StreamArn: str, ShardId: str, ShardIteratorType: str) -> dict[str, Any]:
        return {"ShardIterator": "0" if ShardIteratorType == "TRIM_HORIZON" else str(len(self.records))}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        start = int(ShardIterator)
        batch = self.records[start : start + Limit]
        return {"Records": batch, "NextShardIterator": str(start + len(batch))}


class Consumer:
    def __init__(self, poison: set[str] = frozenset(), raises: bool = False) -> None:  # type: ignore[assignment]
        self.poison = poison
        self.raises = raises
        self.batches: list[list[str]] = []
        self.done: list[str] = []

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        keys = [r["dynamodb"]["Keys"]["PK"]["S"] for r in event["Records"]]
        self.batches.append(keys)
        bad = [
            r["dynamodb"]["SequenceNumber"] for r in event["Records"] if r["dynamodb"]["Keys"]["PK"]["S"] in self.poison
        ]
        if bad and self.raises:
            raise RuntimeError("boom")
        self.done += [k for k in keys if k not in self.poison]
        return {"batchItemFailures": [{"itemIdentifier": seq} for seq in bad]}


def test_records_are_shaped_as_lambda_delivers_them() -> None:
    seen: list[dict[str, Any]] = []
    poller = StreamPoller(FakeStreams(1), ARN, lambda e: seen.extend(e["Records"]), batch_size=10)
    assert poller.drain() == 1
    (record,) = seen
    assert set(record) == {
        "eventID",
        "eventName",
        "eventVersion",
        "eventSource",
        "awsRegion",
        "dynamodb",
        "eventSourceARN",
    }
    assert record["eventSourceARN"] == ARN
    assert record["eventSource"] == "aws:dynamodb"
    assert record["dynamodb"]["ApproximateCreationDateTime"] == datetime(2026, 11, 22, tzinfo=UTC).timestamp()
    assert record["dynamodb"]["NewImage"]["blob"] == {"B": "AAE="}  # base64, as Lambda sends binary


def test_batches_respect_batch_size_and_records_are_read_once() -> None:
    consumer = Consumer()
    poller = StreamPoller(FakeStreams(5), ARN, consumer, batch_size=2)
    poller.drain()
    poller.drain()
    assert consumer.batches == [["k0", "k1"], ["k2", "k3"], ["k4"]]


def test_latest_starts_after_what_is_already_there() -> None:
    consumer = Consumer()
    streams = FakeStreams(3)
    poller = StreamPoller(streams, ARN, consumer, starting_position="LATEST")
    assert poller.drain() == 0
    assert consumer.batches == []


def test_partial_failure_resumes_from_the_failed_record_bisects_and_gives_up_on_the_poison() -> None:
    consumer = Consumer(poison={"k2"})
    given_up: list[dict[str, Any]] = []
    poller = StreamPoller(FakeStreams(6), ARN, consumer, batch_size=6, max_retries=2, on_failure=given_up.append)
    poller.drain()
    assert consumer.batches[0] == ["k0", "k1", "k2", "k3", "k4", "k5"]
    # resume at k2, bisect [k2 k3] [k4 k5], then [k2] [k3]; k2 is retried twice and given up
    assert consumer.batches[1:4] == [["k2", "k3"], ["k2"], ["k2"]]
    assert consumer.batches.count(["k2"]) == 3
    assert sorted(set(consumer.done)) == ["k0", "k1", "k3", "k4", "k5"]
    assert len(given_up) == 1
    info = given_up[0]["DDBStreamBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == ("102", "102", 1)
    assert given_up[0]["requestContext"]["condition"] == "RetryAttemptsExhausted"


def test_a_raising_consumer_fails_the_whole_batch_and_bisection_isolates_the_record() -> None:
    consumer = Consumer(poison={"k1"}, raises=True)
    given_up: list[dict[str, Any]] = []
    poller = StreamPoller(FakeStreams(4), ARN, consumer, batch_size=4, max_retries=1, on_failure=given_up.append)
    poller.drain()
    assert [g["records"][0]["dynamodb"]["Keys"]["PK"]["S"] for g in given_up] == ["k1"]
    assert {"k0", "k2", "k3"} <= set(consumer.done)


def test_without_bisect_the_failing_tail_is_retried_then_given_up_together() -> None:
    consumer = Consumer(poison={"k1"})
    given_up: list[dict[str, Any]] = []
    poller = StreamPoller(
        FakeStreams(3), ARN, consumer, batch_size=3, max_retries=1, on_failure=given_up.append, bisect=False
    )
    poller.drain()
    assert consumer.batches == [["k0", "k1", "k2"], ["k1", "k2"]]
    assert given_up[0]["DDBStreamBatchInfo"]["batchSize"] == 2


def test_too_old_records_go_straight_to_the_failure_sink() -> None:
    consumer = Consumer()
    given_up: list[dict[str, Any]] = []
    poller = StreamPoller(FakeStreams(2), ARN, consumer, on_failure=given_up.append, max_record_age_seconds=60)
    poller.drain()
    assert consumer.batches == []
    assert given_up[0]["requestContext"]["condition"] == "RecordAgeExceeded"


def test_background_thread_delivers() -> None:
    import time

    consumer = Consumer()
    poller = StreamPoller(FakeStreams(3), ARN, consumer, poll_interval=0.01).start()
    deadline = time.monotonic() + 2
    while len(consumer.done) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    poller.stop()
    assert consumer.done == ["k0", "k1", "k2"]


def test_settings_from_the_template() -> None:
    from local_stack.template import load_template

    props = load_template()["Resources"]["NotifyFunction"]["Properties"]["Events"]["OrdersStream"]["Properties"]
    assert stream_event_settings(props) == {
        "batch_size": 25,
        "max_retries": 5,
        "bisect": True,
        "starting_position": "TRIM_HORIZON",
        "max_record_age_seconds": 3600.0,
        "filters": [
            {"dynamodb": {"NewImage": {"type": {"S": ["ORDER", "PAYMENT", "REFUND", "TICKET", "LISTING", "TRACKING"]}}}}
        ],
    }
    # Exactly the item types notify has rules for: a kind left out of the filter would never be heard of
    from orders.logic.changes import KINDS

    assert stream_event_settings(props)["filters"][0]["dynamodb"]["NewImage"]["type"]["S"] == list(KINDS)


def test_filter_criteria_drop_records_that_match_no_pattern() -> None:
    consumer = Consumer()
    streams = FakeStreams(3)
    streams.records[1]["dynamodb"]["NewImage"]["type"] = {"S": "ORDER"}
    pattern = {"dynamodb": {"NewImage": {"type": {"S": ["ORDER", "REFUND"]}}}}
    poller = StreamPoller(streams, ARN, consumer, filters=[pattern])
    poller.drain()
    assert consumer.done == ["k1"]


def test_filter_operators() -> None:
    from local_stack.streams import matches

    record = {"eventName": "MODIFY", "dynamodb": {"Keys": {"PK": {"S": "ORDER#1"}}}}
    assert matches({"dynamodb": {"Keys": {"PK": {"S": [{"prefix": "ORDER#"}]}}}}, record)
    assert not matches({"eventName": [{"anything-but": ["MODIFY"]}]}, record)
    assert matches({"eventName": ["INSERT", "MODIFY"]}, record)
    assert matches({"dynamodb": {"NewImage": [{"exists": False}]}}, record)
    assert not matches({"dynamodb": {"OldImage": {"status": {"S": ["PAID"]}}}}, record)


class ExpiringStreams(FakeStreams):
    """Iterators ("position:serial") that expire when the test says so."""

    def __init__(self, count: int) -> None:
        super().__init__(count)
        self.used: set[str] = set()
        self.expired: set[str] = set()
        self.resumed_after: list[str] = []

    def get_shard_iterator(self, StreamArn: str, ShardId: str, ShardIteratorType: str, **kw: str) -> dict[str, Any]:
        if ShardIteratorType == "AFTER_SEQUENCE_NUMBER":
            self.resumed_after.append(kw["SequenceNumber"])
            return {"ShardIterator": f"{int(kw['SequenceNumber']) - 100 + 1}:resumed"}
        return super().get_shard_iterator(StreamArn, ShardId, ShardIteratorType)

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        from botocore.exceptions import ClientError

        if ShardIterator in self.expired:
            raise ClientError({"Error": {"Code": "ExpiredIteratorException", "Message": "expired"}}, "GetRecords")
        self.used.add(ShardIterator)
        response = super().get_records(ShardIterator.split(":")[0], Limit)
        return response | {"NextShardIterator": f"{response['NextShardIterator']}:{len(self.used)}"}


def test_an_expired_iterator_is_resumed_after_the_last_record_read() -> None:
    # Given a poller that delivered two records, and an iterator that then expires
    consumer = Consumer()
    streams = ExpiringStreams(2)
    poller = StreamPoller(streams, ARN, consumer)
    poller.drain()
    streams.expired.add(poller._iterators["s-1"] or "")
    # When more records arrive and the poller reads again
    streams.records += FakeStreams(4).records[2:]
    poller.drain()
    # Then it resumed just after the last record it had read: nothing lost, nothing twice
    assert streams.resumed_after == ["101"]
    assert consumer.done == ["k0", "k1", "k2", "k3"]


def test_wake_delivers_without_waiting_for_the_interval() -> None:
    import time

    # Given a poller that polls only every minute, and has polled once
    consumer = Consumer()
    streams = FakeStreams(0)
    poller = StreamPoller(streams, ARN, consumer, poll_interval=60).start()
    time.sleep(0.1)
    # When a record arrives and the poller is woken
    streams.records += FakeStreams(1).records
    poller.wake()
    deadline = time.monotonic() + 2
    while not consumer.done and time.monotonic() < deadline:
        time.sleep(0.01)
    poller.stop()
    # Then it was delivered at once
    assert consumer.done == ["k0"]
