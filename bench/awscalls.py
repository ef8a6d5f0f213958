"""Count the AWS API calls a handler makes, through botocore's event hooks, and price them in capacity units.

``Recorder.install()`` appends hooks to botocore's built-in handlers, so every client made afterwards
(the handlers' cached clients included, once they are re-made) reports each call: the service, the
operation, and for DynamoDB the parameters and the parsed response. A call is attributed to the
invocation running in the calling thread (``Recorder.invocation``); calls made outside any invocation
(the bench's own set-up, the stream pollers, Step Functions' service integrations) go to
``Recorder.outside`` and never count against a handler.

Capacity units are computed from item sizes, with DynamoDB's rules (ReturnConsumedCapacity is not
reliable in moto):

- write: 1 WCU per started KB of the larger of the item's size before and after the write (read back
  from the table around the call); transactional writes and condition checks x2; every global
  secondary index the item is in (before or after) costs a write of its own (2 when its key changes);
- read: 1 RCU per started 4 KB (a Query sums its items first), 0.5 when eventually consistent,
  x2 in a transaction; a GetItem that finds nothing still costs the minimum.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

KB = 1024
WRITE_OPS = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}


# --- DynamoDB item size (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html)
def value_size(value: Mapping[str, Any]) -> int:
    (kind, data), *_ = value.items()
    if kind == "S":
        return len(str(data).encode())
    if kind == "N":
        digits = str(data).lstrip("-").replace(".", "").strip("0") or "0"
        return math.ceil(len(digits) / 2) + 1
    if kind == "B":
        return len(data)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode()) for s in data)
    if kind == "NS":
        return sum(value_size({"N": n}) for n in data)
    if kind == "BS":
        return sum(len(b) for b in data)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in data)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + value_size(v) for k, v in data.items())
    raise ValueError(f"unknown attribute type {kind}")


def item_size(item: Mapping[str, Any] | None) -> int:
    if not item:
        return 0
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def write_units(size: int) -> int:
    return max(1, math.ceil(size / KB))


def read_units(size: int, consistent: bool) -> float:
    units = max(1, math.ceil(size / (4 * KB)))
    return float(units) if consistent else units / 2


@dataclass
class Call:
    service: str
    operation: str
    rcu: float = 0.0
    wcu: float = 0.0  # table writes
    index_wcu: float = 0.0  # GSI writes
    items_read: int = 0
    scanned: int = 0
    bytes_written: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v or k in ("service", "operation")}


@dataclass
class Invocation:
    function: str
    label: str
    calls: list[Call] = field(default_factory=list)
    started: float = 0.0
    seconds: float = 0.0
    error: str | None = None

    def by_api(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for call in self.calls:
            counts[call.operation] = counts.get(call.operation, 0) + 1
        return counts

    def totals(self) -> dict[str, float]:
        return {
            "calls": len(self.calls),
            "rcu": sum(c.rcu for c in self.calls),
            "wcu": sum(c.wcu for c in self.calls),
            "index_wcu": sum(c.index_wcu for c in self.calls),
        }


class Recorder:
    """botocore hooks → per-invocation lists of calls, with DynamoDB capacity units."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._lock = threading.Lock()
        self.invocations: list[Invocation] = []
        self.outside: list[tuple[str, Call]] = []  # (thread name, call)
        self._reader: Any = None  # an un-counted DynamoDB client for read-backs
        self._keys: dict[str, list[str]] = {}
        self._indexes: dict[str, list[list[str]]] = {}

    # --- wiring ------------------------------------------------------------------------------
    def install(self) -> None:
        import boto3
        import botocore.handlers

        botocore.handlers.BUILTIN_HANDLERS.extend(
            [
                ("before-parameter-build.*.*", self._before),
                ("after-call.*.*", self._after),
            ]
        )
        boto3.DEFAULT_SESSION = None  # the default session registers the hooks when it is made again

    def uninstall(self) -> None:
        import boto3
        import botocore.handlers

        for hook in (("before-parameter-build.*.*", self._before), ("after-call.*.*", self._after)):
            if hook in botocore.handlers.BUILTIN_HANDLERS:
                botocore.handlers.BUILTIN_HANDLERS.remove(hook)
        boto3.DEFAULT_SESSION = None

    def describe_tables(self, client: Any, names: list[str]) -> None:
        """Key schema and GSI keys of the tables (the bench's client: not counted)."""
        self._reader = client
        with self.suspended():
            for name in names:
                table = client.describe_table(TableName=name)["Table"]
                self._keys[name] = [k["AttributeName"] for k in table["KeySchema"]]
                self._indexes[name] = [
                    [k["AttributeName"] for k in index["KeySchema"]]
                    for index in table.get("GlobalSecondaryIndexes", [])
                ]

    @contextmanager
    def suspended(self) -> Iterator[None]:
        previous = getattr(self._local, "suspended", False)
        self._local.suspended = True
        try:
            yield
        finally:
            self._local.suspended = previous

    @contextmanager
    def invocation(self, function: str, label: str) -> Iterator[Invocation]:
        import time

        record = Invocation(function=function, label=label, started=time.monotonic())
        previous = getattr(self._local, "current", None)
        self._local.current = record
        try:
            yield record
        except Exception as exc:
            record.error = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            record.seconds = time.monotonic() - record.started
            self._local.current = previous
            with self._lock:
                self.invocations.append(record)

    # --- hooks -------------------------------------------------------------------------------
    def _before(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        if getattr(self._local, "suspended", False) or context.get("bench_call") is not None:
            return
        call = Call(service=model.service_model.service_id, operation=model.name)
        context["bench_call"] = call
        if call.service == "DynamoDB":
            context["bench_read_params"] = params
        if call.service == "DynamoDB" and call.operation in WRITE_OPS and self._reader is not None:
            with self.suspended():
                context["bench_before"] = {
                    key: self._read_key(key) for key in self._written_keys(call.operation, params)
                }
            context["bench_params"] = params
        current: Invocation | None = getattr(self._local, "current", None)
        with self._lock:
            if current is not None:
                current.calls.append(call)
            else:
                self.outside.append((threading.current_thread().name, call))

    def _after(self, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        call: Call | None = context.get("bench_call")
        if call is None or call.service != "DynamoDB" or getattr(self._local, "suspended", False):
            return
        with self.suspended():
            if call.operation in WRITE_OPS:
                self._price_write(call, context.get("bench_params") or {}, context.get("bench_before") or {})
            else:
                self._price_read(call, context, parsed)

    # --- capacity ----------------------------------------------------------------------------
    def _read(self, table: str, key: tuple[tuple[str, Any], ...]) -> dict[str, Any] | None:
        response = self._reader.get_item(TableName=table, Key=dict(key), ConsistentRead=True)
        item: dict[str, Any] | None = response.get("Item")
        return item

    def _read_key(self, key: tuple[str, tuple[Any, ...]]) -> dict[str, Any] | None:
        return self._read(key[0], tuple((name, _thawed(value)) for name, value in key[1]))

    def _key_of(self, table: str, item: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
        return tuple((name, item[name]) for name in self._keys.get(table, []) if name in item)

    def _written_keys(self, operation: str, params: Mapping[str, Any]) -> list[tuple[str, tuple[Any, ...]]]:
        keys: list[tuple[str, tuple[Any, ...]]] = []

        def add(table: str, key_or_item: Mapping[str, Any]) -> None:
            keys.append((table, tuple(sorted((k, _frozen(v)) for k, v in self._key_of(table, key_or_item)))))

        if operation == "PutItem":
            add(params["TableName"], params["Item"])
        elif operation in ("UpdateItem", "DeleteItem"):
            add(params["TableName"], params["Key"])
        elif operation == "TransactWriteItems":
            for entry in params["TransactItems"]:
                (_, action), *_ = entry.items()
                add(action["TableName"], action.get("Item") or action["Key"])
        elif operation == "BatchWriteItem":
            for table, requests in params["RequestItems"].items():
                for request in requests:
                    body = request.get("PutRequest", {}).get("Item") or request.get("DeleteRequest", {}).get("Key")
                    add(table, body)
        return keys

    def _price_write(self, call: Call, params: Mapping[str, Any], before: Mapping[Any, Any]) -> None:
        transactional = call.operation == "TransactWriteItems"
        kinds: dict[Any, str] = {}
        if transactional:
            for entry, key in zip(params["TransactItems"], before, strict=False):
                kinds[key] = next(iter(entry))
        for key, old in before.items():
            table = key[0]
            new = self._read_key(key)
            size = max(item_size(old), item_size(new))
            factor = 2 if transactional else 1
            call.wcu += factor * write_units(size)
            call.bytes_written += item_size(new)
            if kinds.get(key) == "ConditionCheck":
                continue
            for index_keys in self._indexes.get(table, []):
                had = old is not None and all(k in old for k in index_keys)
                has = new is not None and all(k in new for k in index_keys)
                if had and has and any(old.get(k) != new.get(k) for k in index_keys):  # type: ignore[union-attr]
                    call.index_wcu += write_units(item_size(old)) + write_units(item_size(new))
                elif has:
                    call.index_wcu += write_units(item_size(new))
                elif had:
                    call.index_wcu += write_units(item_size(old))

    def _price_read(self, call: Call, context: Mapping[str, Any], parsed: Mapping[str, Any]) -> None:
        operation = call.operation
        if operation == "GetItem":
            item = parsed.get("Item")
            call.items_read = 1 if item else 0
            call.rcu = read_units(item_size(item), consistent=bool(_param(context, "ConsistentRead")))
        elif operation in ("Query", "Scan"):
            items = parsed.get("Items", [])
            call.items_read = len(items)
            call.scanned = int(parsed.get("ScannedCount", len(items)))
            size = sum(item_size(i) for i in items)
            if call.scanned > len(items) and items:  # filtered out: priced at the average size read
                size = size * call.scanned // len(items)
            call.rcu = read_units(size, consistent=bool(_param(context, "ConsistentRead")))
        elif operation == "BatchGetItem":
            for items in parsed.get("Responses", {}).values():
                call.items_read += len(items)
                call.rcu += sum(read_units(item_size(i), consistent=False) for i in items)
        elif operation == "TransactGetItems":
            responses = parsed.get("Responses", [])
            call.items_read = len(responses)
            call.rcu = sum(2 * read_units(item_size(r.get("Item")), consistent=True) for r in responses)


def _param(context: Mapping[str, Any], name: str) -> Any:
    return (context.get("bench_read_params") or {}).get(name)


def _frozen(value: Mapping[str, Any]) -> tuple[str, str]:
    (kind, data), *_ = value.items()
    return (kind, str(data))


def _thawed(value: tuple[str, str]) -> dict[str, str]:
    return {value[0]: value[1]}
