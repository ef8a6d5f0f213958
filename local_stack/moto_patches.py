"""Make moto behave like AWS where the tests and the local stack depend on it.

DynamoDB applies each write, and each whole transaction, atomically: a condition is checked and
the write applied with no other write in between. moto's backend takes no lock, so two threads
can both pass a condition. Serialising the backend's write operations restores the guarantee,
so a race under test is the product's (read, decide, conditional write), not the fake's.

A refused TransactWriteItems is rolled back by moto by swapping each table for a copy taken before it;
the copy has a new stream shard, so every shard iterator already handed out (the stream pollers') reads
the old one for good and the stream goes silent. The rollback here keeps the live shard instead (without
the records of the writes it undid), as DynamoDB does: a cancelled transaction leaves no stream record.
"""

from __future__ import annotations

import json
import logging
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from local_stack.runtime import LambdaRuntime

log = logging.getLogger("local_stack.lambda")

_WRITES = ("transact_write_items", "put_item", "update_item", "delete_item")  # batch writes go through these


@contextmanager
def atomic_dynamodb_writes() -> Iterator[None]:
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()
    originals = {name: getattr(DynamoDBBackend, name) for name in _WRITES if hasattr(DynamoDBBackend, name)}

    def locked(original: Any) -> Any:
        def write(self: Any, *args: Any, **kwargs: Any) -> Any:
            with lock:
                return original(self, *args, **kwargs)

        return write

    def transact(original: Any) -> Any:
        def write(self: Any, *args: Any, **kwargs: Any) -> Any:
            with lock:
                live = {name: table for name, table in self.tables.items() if table.stream_shard is not None}
                lengths = {name: len(table.stream_shard.items) for name, table in live.items()}
                try:
                    return original(self, *args, **kwargs)
                except Exception:
                    for name, table in live.items():
                        restored = self.tables.get(name)
                        if restored is not None and restored is not table:
                            shard = table.stream_shard
                            del shard.items[lengths[name] :]
                            shard.table = restored
                            restored.stream_shard = shard
                    raise

        return write

    for name, original in originals.items():
        setattr(DynamoDBBackend, name, transact(original) if name == "transact_write_items" else locked(original))
    try:
        yield
    finally:
        for name, original in originals.items():
            setattr(DynamoDBBackend, name, original)


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
