"""DynamoDB stream → function delivery, as Lambda's event source mapping does it, on moto.

:class:`StreamPoller` reads a table's stream (``dynamodbstreams`` describe_stream /
get_shard_iterator / get_records), shapes each record exactly as Lambda delivers it, and hands
batches to a consumer (the function's handler). It honours the event source mapping's contract:

* ``batchItemFailures``: the records before the first failed sequence number are checkpointed;
  delivery resumes from the failed one. A consumer that raises (or answers something else) fails
  the whole batch.
* ``BisectBatchOnFunctionError``: a failing batch of more than one record is split in two and each
  half is retried on its own (bisecting does not use up retries, as on AWS).
* ``MaximumRetryAttempts``: a single failing record is retried this many times, then handed to
  ``on_failure`` (the on-failure destination) with Lambda's ``DDBStreamBatchInfo`` metadata, and
  delivery goes on with the next record. ``MaximumRecordAgeInSeconds`` sends too-old records
  straight there.
* ``FilterCriteria``: records matching none of the filter patterns are dropped before delivery
  (literal values, ``prefix``, ``anything-but`` and ``exists`` are understood).

Use ``drain()`` in tests (deliver everything written so far, synchronously) or ``start()`` /
``stop()`` for a background thread polling every ``poll_interval`` seconds; ``wake()`` makes it
poll at once (the local stack calls it when moto puts a record on a stream).

The poller follows the stream by sequence number, not only by the iterator it holds: an iterator
that expired (AWS: after 15 minutes) or whose shard was trimmed is re-resolved after the last
record delivered, as Lambda's event source mapping does.
:func:`pollers_from_template` builds one poller per DynamoDB event of template.yaml.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger(__name__)

Consumer = Callable[[dict[str, Any]], Any]
FailureSink = Callable[[dict[str, Any]], None]


class StreamPoller:
    def __init__(
        self,
        streams: Any,
        stream_arn: str,
        consumer: Consumer,
        batch_size: int = 100,
        max_retries: int = 2,
        on_failure: FailureSink | None = None,
        *,
        starting_position: str = "TRIM_HORIZON",
        bisect: bool = True,
        max_record_age_seconds: float | None = None,
        poll_interval: float = 0.05,
        filters: list[dict[str, Any]] | None = None,
    ) -> None:
        self.streams = streams
        self.filters = filters or []
        self.stream_arn = stream_arn
        self.consumer = consumer
        self.batch_size = batch_size
        self.max_retries = max_retries
        self.on_failure = on_failure or (lambda info: log.error("stream records given up: %s", info))
        self.bisect = bisect
        self.max_record_age_seconds = max_record_age_seconds
        self.poll_interval = poll_interval
        self.invocations = 0  # how many times the consumer was called (tests look at it)
        self._starting_position = starting_position
        self._iterators: dict[str, str | None] = {}
        self._last_sequence: dict[str, str] = {}  # shard → sequence number of the last record read
        self._wakeup = threading.Event()
        self._region = stream_arn.split(":")[3] if stream_arn.count(":") >= 5 else "us-east-1"
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._discover()  # LATEST means "from now": take the positions at construction time

    # --- public ------------------------------------------------------------------------------
    def drain(self) -> int:
        """Deliver every record written so far; returns how many records were read."""
        with self._lock:
            total = 0
            self._discover()
            for shard_id in list(self._iterators):
                while True:
                    records = self._read(shard_id)
                    if not records:
                        break
                    total += len(records)
                    for start in range(0, len(records), self.batch_size):
                        self._deliver(shard_id, records[start : start + self.batch_size], self.max_retries)
            return total

    def start(self) -> StreamPoller:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name=f"stream-poller-{id(self)}", daemon=True)
            self._thread.start()
        return self

    def wake(self) -> None:
        """Poll now rather than at the end of the interval (records were just written)."""
        self._wakeup.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wakeup.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    # --- reading -----------------------------------------------------------------------------
    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wakeup.clear()  # before reading: a write after this point wakes the next round
            try:
                self.drain()
            except Exception:
                log.exception("stream poller: delivery loop failed; retrying")
            self._wakeup.wait(self.poll_interval)

    def _discover(self) -> None:
        description = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
        self._view_type = description.get("StreamViewType", "NEW_AND_OLD_IMAGES")
        for shard in description.get("Shards", []):
            shard_id = shard["ShardId"]
            if shard_id not in self._iterators:
                self._iterators[shard_id] = self.streams.get_shard_iterator(
                    StreamArn=self.stream_arn, ShardId=shard_id, ShardIteratorType=self._starting_position
                )["ShardIterator"]

    def _read(self, shard_id: str) -> list[dict[str, Any]]:
        iterator = self._iterators.get(shard_id)
        if not iterator:
            return []
        try:
            response = self.streams.get_records(ShardIterator=iterator, Limit=1000)
        except Exception as exc:
            if _error_code(exc) not in _STALE_ITERATOR:
                raise
            log.info("stream poller: %s on %s; resuming after the last record read", _error_code(exc), shard_id)
            iterator = self._resume(shard_id)
            response = self.streams.get_records(ShardIterator=iterator, Limit=1000)
        records = response.get("Records", [])
        if records:
            self._last_sequence[shard_id] = records[-1]["dynamodb"]["SequenceNumber"]
        # Keep the old iterator when nothing came back: moto's next iterator is then the same place.
        self._iterators[shard_id] = response.get("NextShardIterator") or iterator
        shaped = [self._shape(record) for record in records]
        if self.filters:
            shaped = [r for r in shaped if any(matches(pattern, r) for pattern in self.filters)]
        return shaped

    def _resume(self, shard_id: str) -> str:
        """A fresh iterator just after the last record read (or at the starting position)."""
        last = self._last_sequence.get(shard_id)
        if last is None:
            position = {"ShardIteratorType": self._starting_position}
        else:
            position = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": last}
        iterator: str = self.streams.get_shard_iterator(StreamArn=self.stream_arn, ShardId=shard_id, **position)[
            "ShardIterator"
        ]
        self._iterators[shard_id] = iterator
        return iterator

    def _shape(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """A record exactly as Lambda delivers it to the function."""
        data = dict(record["dynamodb"])
        created = data.get("ApproximateCreationDateTime")
        if isinstance(created, datetime):
            data["ApproximateCreationDateTime"] = created.astimezone(UTC).timestamp()
        elif created is None:
            data["ApproximateCreationDateTime"] = time.time()
        for image in ("Keys", "NewImage", "OldImage"):
            if image in data:
                data[image] = _json_safe(data[image])
        data.setdefault("StreamViewType", self._view_type)
        return {
            "eventID": record["eventID"],
            "eventName": record["eventName"],
            "eventVersion": record.get("eventVersion", "1.1"),
            "eventSource": "aws:dynamodb",
            "awsRegion": record.get("awsRegion", self._region),
            "dynamodb": data,
            "eventSourceARN": self.stream_arn,
        }

    # --- delivering --------------------------------------------------------------------------
    def _deliver(self, shard_id: str, records: list[dict[str, Any]], retries_left: int) -> None:
        records = self._drop_expired(shard_id, records)
        while records:
            failed_at = self._invoke(records)
            if failed_at is None:
                return
            records = records[failed_at:]  # everything before the first failure is checkpointed
            if self.bisect and len(records) > 1:
                middle = len(records) // 2
                self._deliver(shard_id, records[:middle], retries_left)
                self._deliver(shard_id, records[middle:], retries_left)
                return
            if retries_left <= 0:
                self._give_up(shard_id, records, "RetryAttemptsExhausted")
                return
            retries_left -= 1

    def _invoke(self, records: list[dict[str, Any]]) -> int | None:
        """Index of the first failed record (``None``: all succeeded)."""
        self.invocations += 1
        try:
            response = self.consumer({"Records": records})
        except Exception:
            log.exception("stream consumer raised: the whole batch failed")
            return 0
        if response is None:
            return None
        if not isinstance(response, dict):
            return 0
        failures = response.get("batchItemFailures") or []
        if not failures:
            return None
        index = {record["dynamodb"]["SequenceNumber"]: i for i, record in enumerate(records)}
        positions = []
        for failure in failures:
            identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
            if identifier not in index:
                return 0  # Lambda treats an unknown or empty identifier as a failure of the whole batch
            positions.append(index[identifier])
        return min(positions)

    def _drop_expired(self, shard_id: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if self.max_record_age_seconds is None:
            return records
        cutoff = time.time() - self.max_record_age_seconds
        expired = [r for r in records if r["dynamodb"]["ApproximateCreationDateTime"] < cutoff]
        if expired:
            self._give_up(shard_id, expired, "RecordAgeExceeded")
        return [r for r in records if r["dynamodb"]["ApproximateCreationDateTime"] >= cutoff]

    def _give_up(self, shard_id: str, records: list[dict[str, Any]], condition: str) -> None:
        first, last = records[0]["dynamodb"], records[-1]["dynamodb"]
        info = {
            "requestContext": {
                "requestId": records[0]["eventID"],
                "functionArn": "local",
                "condition": condition,
                "approximateInvokeCount": self.max_retries + 1,
            },
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(),
            "DDBStreamBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": first["SequenceNumber"],
                "endSequenceNumber": last["SequenceNumber"],
                "approximateArrivalOfFirstRecord": _iso(first["ApproximateCreationDateTime"]),
                "approximateArrivalOfLastRecord": _iso(last["ApproximateCreationDateTime"]),
                "batchSize": len(records),
                "streamArn": self.stream_arn,
            },
            # Not in Lambda's message (it carries only the batch's position): the local stack keeps
            # the records themselves so a developer can see what was given up.
            "records": records,
        }
        self.on_failure(info)


_STALE_ITERATOR = {"ExpiredIteratorException", "TrimmedDataAccessException"}


def _error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def _json_safe(value: Any) -> Any:
    """Binary attribute values as Lambda sends them: base64 text, not bytes."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


# --- filter patterns (the subset of EventBridge patterns Lambda's FilterCriteria uses) -------------
def matches(pattern: Mapping[str, Any], data: Any) -> bool:
    """Does ``data`` (a record) match an event-filter ``pattern``?"""
    if not isinstance(data, Mapping):
        return False
    for key, expected in pattern.items():
        present = key in data
        value = data.get(key)
        if isinstance(expected, Mapping):
            if not present or not matches(expected, value):
                return False
        elif isinstance(expected, list):
            if not any(_match_one(rule, present, value) for rule in expected):
                return False
        else:
            return False
    return True


def _match_one(rule: Any, present: bool, value: Any) -> bool:
    values = value if isinstance(value, list) else [value]
    if isinstance(rule, Mapping):
        if "exists" in rule:
            return present is bool(rule["exists"])
        if not present:
            return False
        if "prefix" in rule:
            return any(isinstance(v, str) and v.startswith(rule["prefix"]) for v in values)
        if "anything-but" in rule:
            excluded = rule["anything-but"] if isinstance(rule["anything-but"], list) else [rule["anything-but"]]
            return all(v not in excluded for v in values)
        return False
    return present and rule in values


# --- from the template -------------------------------------------------------------------------
def stream_event_settings(event_properties: Mapping[str, Any]) -> dict[str, Any]:
    """StreamPoller keyword arguments from a SAM ``Type: DynamoDB`` event's Properties."""
    settings: dict[str, Any] = {
        "batch_size": int(event_properties.get("BatchSize", 100)),
        "max_retries": int(event_properties.get("MaximumRetryAttempts", 2)),
        "bisect": bool(event_properties.get("BisectBatchOnFunctionError", False)),
        "starting_position": str(event_properties.get("StartingPosition", "LATEST")),
    }
    if settings["max_retries"] < 0:  # -1: infinite on AWS; bounded locally
        settings["max_retries"] = 10
    filters = (event_properties.get("FilterCriteria") or {}).get("Filters") or []
    if filters:
        settings["filters"] = [
            json.loads(f["Pattern"]) if isinstance(f["Pattern"], str) else f["Pattern"] for f in filters
        ]
    if "MaximumRecordAgeInSeconds" in event_properties and int(event_properties["MaximumRecordAgeInSeconds"]) > 0:
        settings["max_record_age_seconds"] = float(event_properties["MaximumRecordAgeInSeconds"])
    return settings


def pollers_from_template(
    template: Mapping[str, Any],
    table_names: Mapping[str, str],
    dynamodb: Any,
    streams: Any,
    invoke: Callable[[str, dict[str, Any]], Any],
    on_failure: Callable[[str, dict[str, Any]], None] | None = None,
    *,
    starting_position: str | None = None,
    poll_interval: float = 0.05,
) -> list[tuple[str, StreamPoller]]:
    """One poller per ``Type: DynamoDB`` event of every function in the template, with the function's id.

    ``table_names``: table logical id → local table name; ``invoke(function logical id, event)``
    runs the function (e.g. ``LambdaRuntime.invoke``); ``on_failure(function logical id, info)``
    is the on-failure destination. ``starting_position`` overrides the template's (the local stack
    wants TRIM_HORIZON when it creates the tables itself, so no record written at start-up is lost).
    """
    from local_stack.template import function_specs

    pollers = []
    for logical_id, spec in function_specs(template).items():
        for event in spec.events.values():
            if event.get("Type") != "DynamoDB":
                continue
            props = event["Properties"]
            stream = props["Stream"]
            table_id = stream["Fn::GetAtt"][0] if isinstance(stream, dict) and "Fn::GetAtt" in stream else None
            if table_id is None or table_id not in table_names:
                raise ValueError(f"{logical_id}: cannot resolve the stream {stream!r}")
            arn = dynamodb.describe_table(TableName=table_names[table_id])["Table"]["LatestStreamArn"]
            settings = stream_event_settings(props)
            if starting_position:
                settings["starting_position"] = starting_position

            def consumer(batch: dict[str, Any], _fn: str = logical_id) -> Any:
                return invoke(_fn, batch)

            def sink(info: dict[str, Any], _fn: str = logical_id) -> None:
                if on_failure is not None:
                    on_failure(_fn, info)
                else:
                    log.error("%s: stream records given up: %s", _fn, info["DDBStreamBatchInfo"])

            pollers.append(
                (
                    logical_id,
                    StreamPoller(streams, arn, consumer, on_failure=sink, poll_interval=poll_interval, **settings),
                )
            )
    return pollers
