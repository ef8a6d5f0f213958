"""Values made once per execution environment (config, clients, repositories).

Lambda gives each function its own process, so caching at module level is safe there. The
tests and the local stack run several functions in one process: they call :func:`reset` when
they switch to another function's environment.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

_clears: list[Callable[[], None]] = []


def per_environment(func: Callable[[], R]) -> Callable[[], R]:
    cached = cache(func)
    _clears.append(cached.cache_clear)
    return cached


def reset() -> None:
    for clear in _clears:
        clear()
