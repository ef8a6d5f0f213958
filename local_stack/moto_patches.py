"""Make moto behave like DynamoDB where the tests and the local stack depend on it.

DynamoDB applies each write, and each whole transaction, atomically: a condition is checked and
the write applied with no other write in between. moto's backend takes no lock, so two threads
can both pass a condition. Serialising the backend's write operations restores the guarantee,
so a race under test is the product's (read, decide, conditional write), not the fake's.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

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

    for name, original in originals.items():
        setattr(DynamoDBBackend, name, locked(original))
    try:
        yield
    finally:
        for name, original in originals.items():
            setattr(DynamoDBBackend, name, original)
