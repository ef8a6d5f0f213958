"""Make moto behave like AWS where the tests and the local stack depend on it.

DynamoDB applies each write, and each whole transaction, atomically: a condition is checked and
the write applied with no other write in between. moto's backend takes no lock, so two threads
can both pass a condition. Serialising the backend's write operations restores the guarantee,
so a race under test is the product's (read, decide, conditional write), not the fake's.

A cancelled TransactWriteItems writes nothing, and so puts nothing on the table's stream. moto
5.2 applies a transaction's writes one by one (each one's stream record at once) and, when one
fails, puts a deep copy of every table it touched in the place of the table. Stream readers then
hold an iterator on the replaced table's shard, which never grows again, and have seen records
of writes that were undone; and every transaction copies whole tables. :func:`atomic_dynamodb_writes`
replaces it: the items a transaction targets are backed up, its stream records are held back
until it commits (dropped if it is cancelled), and a cancelled transaction puts back those items
alone, in the same table objects.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from local_stack.runtime import LambdaRuntime

log = logging.getLogger("local_stack.lambda")

_WRITES = ("transact_write_items", "put_item", "update_item", "delete_item")  # batch writes go through these
# moto's reads walk the same dicts a write changes ("dictionary changed size during iteration" when a
# worker thread writes while another reads); DynamoDB serves both at once, so reads wait for the lock.
_READS = ("get_item", "query", "scan", "batch_get_item", "transact_get_items")
_MAX_TRANSACTION_ITEMS = 100


class _StreamBuffer(threading.local):
    """Stream records of the transaction this thread is applying (``None``: none is)."""

    pending: list[tuple[Any, Any, Any]] | None = None


_buffer = _StreamBuffer()

# Held by every DynamoDB write (and a whole transaction) and read; hold it to read a table consistently.
WRITE_LOCK = threading.RLock()
_writes = 0


def dynamodb_writes() -> int:
    """How many DynamoDB writes so far (a change counter: has anything been written since?)."""
    return _writes


_stream_listeners: list[Callable[[], None]] = []


def on_stream_record(listener: Callable[[], None]) -> Callable[[], None]:
    """Call ``listener`` (no arguments, must not block) after records reach a stream; returns an undo."""
    _stream_listeners.append(listener)

    def remove() -> None:
        with contextlib.suppress(ValueError):
            _stream_listeners.remove(listener)

    return remove


def _notify_stream_listeners() -> None:
    for listener in list(_stream_listeners):
        listener()


@contextmanager
def atomic_dynamodb_writes() -> Iterator[None]:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import StreamShard

    lock = WRITE_LOCK
    originals = {name: getattr(DynamoDBBackend, name) for name in _WRITES + _READS if hasattr(DynamoDBBackend, name)}
    original_add = StreamShard.add

    def locked(original: Any) -> Any:
        def write(self: Any, *args: Any, **kwargs: Any) -> Any:
            global _writes
            with lock:
                _writes += 1
                return original(self, *args, **kwargs)

        return write

    def read_locked(original: Any) -> Any:
        def read(self: Any, *args: Any, **kwargs: Any) -> Any:
            with lock:
                return original(self, *args, **kwargs)

        return read

    def add(shard: Any, old: Any, new: Any) -> None:
        if _buffer.pending is not None:
            _buffer.pending.append((shard, old, new))
            return
        original_add(shard, old, new)
        _notify_stream_listeners()

    def transact_write_items(backend: Any, transact_items: list[dict[str, Any]]) -> None:
        global _writes
        with lock:
            _writes += 1
            _transact(backend, transact_items, original_add)
        _notify_stream_listeners()

    for name, original in originals.items():
        setattr(DynamoDBBackend, name, read_locked(original) if name in _READS else locked(original))
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign,assignment]
    StreamShard.add = add  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        for name, original in originals.items():
            setattr(DynamoDBBackend, name, original)
        StreamShard.add = original_add  # type: ignore[method-assign]


def _transact(backend: Any, transact_items: list[dict[str, Any]], emit: Callable[[Any, Any, Any], None]) -> None:
    """TransactWriteItems as DynamoDB applies it: all writes or none, and stream records only for all."""
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import (
        ConditionalCheckFailed,
        MockValidationException,
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )

    if len(transact_items) > _MAX_TRANSACTION_ITEMS:
        raise TooManyTransactionsException()
    if any(len(entry) != 1 for entry in transact_items):
        raise TransactWriteSingleOpException()
    backups: list[tuple[Any, dict[str, Any], Any]] = []  # (table, key, the item before or None)
    targets: set[tuple[str, str]] = set()
    reasons: list[tuple[Any, Any, Any]] = []
    _buffer.pending = []
    try:
        for entry in transact_items:
            kind, op = next(iter(entry.items()))
            old_image = None
            try:
                if kind not in ("ConditionCheck", "Put", "Delete", "Update"):
                    raise MockValidationException(f"Unsupported transaction operation: {kind}")
                table = backend.get_table(op["TableName"])
                key = _key_of(table, op["Item"]) if kind == "Put" else op["Key"]
                target = (table.name, json.dumps(key, sort_keys=True))
                if target in targets:
                    raise MultipleTransactionsException()
                targets.add(target)
                current = backend.get_item(table.name, key)
                names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
                if op.get("ConditionExpression") is not None:
                    condition = get_filter_expression(op["ConditionExpression"], names, values)
                    if not condition.expr(current):
                        if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current is not None:
                            old_image = current.to_json()["Attributes"]
                        raise ConditionalCheckFailed(item=old_image)
                if kind != "ConditionCheck":
                    backups.append((table, key, copy.deepcopy(current)))
                if kind == "Put":
                    backend.put_item(table.name, op["Item"])
                elif kind == "Delete":
                    backend.delete_item(table.name, key)
                elif kind == "Update":
                    backend.update_item(table.name, key, op["UpdateExpression"], names, values)
                reasons.append((None, None, None))
            except MockValidationException:
                _undo(backend, backups)
                raise
            except ConditionalCheckFailed as exc:
                reasons.append(("ConditionalCheckFailed", exc.message, old_image))
            except Exception as exc:
                reasons.append((type(exc).__name__, str(exc), None))
        if any(code is not None for code, _, _ in reasons):
            _undo(backend, backups)
            raise TransactionCanceledException(reasons)
        committed = _buffer.pending
    finally:
        _buffer.pending = None
    for shard, old, new in committed:
        emit(shard, old, new)


def _key_of(table: Any, item: dict[str, Any]) -> dict[str, Any]:
    key = {table.hash_key_attr: item[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = item[table.range_key_attr]
    return key


def _undo(backend: Any, backups: list[tuple[Any, dict[str, Any], Any]]) -> None:
    """Put back the items a cancelled transaction wrote (their stream records are being discarded)."""
    for table, key, before in reversed(backups):
        if before is None:
            hash_value, range_value = backend.get_keys_value(table, key)
            table.delete_item(hash_value, range_value)
        else:
            table.put_item(before.to_json()["Attributes"])


ITERATOR_LIFETIME_SECONDS = 15 * 60  # a DynamoDB Streams shard iterator expires after 15 minutes


@contextmanager
def expiring_stream_iterators(lifetime: float = ITERATOR_LIFETIME_SECONDS) -> Iterator[None]:
    """Shard iterators expire as on AWS (``ExpiredIteratorException``), so moto forgets them.

    moto keeps every iterator it ever handed out, and each GetRecords hands out one more: a stack
    polling its streams for hours would grow without end.
    """
    from moto.core.exceptions import JsonRESTError
    from moto.dynamodbstreams.models import DynamoDBStreamsBackend

    born: dict[str, float] = {}  # iterator → when it was made, oldest first
    lock = threading.Lock()
    get_shard_iterator, get_records = DynamoDBStreamsBackend.get_shard_iterator, DynamoDBStreamsBackend.get_records

    def remember(backend: Any, iterator: str) -> None:
        now = time.monotonic()
        with lock:
            born[iterator] = now
            while born:
                oldest, made = next(iter(born.items()))
                if now - made < lifetime:
                    break
                del born[oldest]
                backend.shard_iterators.pop(oldest, None)

    def issue(backend: Any, *args: Any, **kwargs: Any) -> Any:
        iterator = get_shard_iterator(backend, *args, **kwargs)
        remember(backend, iterator.arn)
        return iterator

    def read(backend: Any, iterator_arn: str, limit: int) -> dict[str, Any]:
        with lock:
            made = born.get(iterator_arn)
        if made is not None and time.monotonic() - made >= lifetime:
            backend.shard_iterators.pop(iterator_arn, None)
        if iterator_arn not in backend.shard_iterators:
            raise JsonRESTError("ExpiredIteratorException", "Iterator expired: it was made over 15 minutes ago.")
        result: dict[str, Any] = get_records(backend, iterator_arn, limit)
        remember(backend, result["NextShardIterator"])
        return result

    DynamoDBStreamsBackend.get_shard_iterator = issue  # type: ignore[method-assign,assignment]
    DynamoDBStreamsBackend.get_records = read  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        DynamoDBStreamsBackend.get_shard_iterator = get_shard_iterator  # type: ignore[method-assign]
        DynamoDBStreamsBackend.get_records = get_records  # type: ignore[method-assign]


@contextmanager
def lambda_invocations_to(runtime: LambdaRuntime) -> Iterator[None]:
    """Every Lambda invoke inside moto (Step Functions tasks, lambda:Invoke) runs the real handler.

    Needs moto's ``lambda.use_docker`` off, which routes invokes to ``LambdaSimpleBackend.invoke``.
    A handler exception is answered as Lambda answers a function error (``X-Amz-Function-Error:
    Unhandled`` and ``{"errorType", "errorMessage"}``), so a definition's Retry and Catch match the
    exception's class name. An asynchronous invoke (``Event``) runs on a thread of its own.
    """
    from moto.awslambda_simple.models import LambdaSimpleBackend

    def invoke(
        backend: Any, function_name: str, qualifier: str | None, body: Any, headers: Any, response_headers: Any
    ) -> bytes:
        logical_id = function_name.split(":function:")[-1].split(":")[0]
        event = json.loads(body) if body else {}
        if (headers or {}).get("X-Amz-Invocation-Type") == "Event":
            threading.Thread(target=_invoke_logged, args=(runtime, logical_id, event), daemon=True).start()
            return b""
        try:
            result = runtime.invoke(logical_id, event)
        except Exception as exc:
            log.exception("%s failed", logical_id)
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps(
                {
                    "errorMessage": str(exc),
                    "errorType": type(exc).__name__,
                    "stackTrace": traceback.format_tb(exc.__traceback__),
                }
            ).encode()
        return json.dumps(result).encode()

    original = LambdaSimpleBackend.invoke
    LambdaSimpleBackend.invoke = invoke  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        LambdaSimpleBackend.invoke = original  # type: ignore[method-assign]


def _invoke_logged(runtime: LambdaRuntime, logical_id: str, event: Any) -> None:
    try:
        runtime.invoke(logical_id, event)
    except Exception:
        log.exception("%s failed (asynchronous invoke)", logical_id)
