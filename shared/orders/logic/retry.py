"""Read-decide-write again when a concurrent writer got there first (every write is conditional)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from orders import errors

ATTEMPTS = 3

T = TypeVar("T")


def retrying(attempt: Callable[[], T]) -> T:
    """Run ``attempt`` (it reads, decides and writes conditionally) again on ConcurrentModification,
    up to ATTEMPTS times; the last conflict is raised (409)."""
    for number in range(ATTEMPTS):
        try:
            return attempt()
        except errors.ConcurrentModification:
            if number == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")
