"""Values made once per execution environment (config, clients, repositories).

Lambda gives each function its own process, so caching at module level is safe there. The
tests and the local stack run several functions in one process:

- a host that runs one function at a time in a thread switches the process-wide settings
  (``orders.config.use_environment``) and calls :func:`reset`;
- a host that runs invocations of several functions at once (the local stack's runtime) gives
  each function a store of its own and makes it current for one invocation with
  :func:`use_store`, in a ``contextvars`` context of that invocation: concurrent invocations of
  different functions never see each other's values.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar, Token
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

Store = dict[Callable[[], Any], Any]

_process_store: Store = {}
_store_here: ContextVar[Store | None] = ContextVar("orders_cache_store", default=None)


def per_environment(func: Callable[[], R]) -> Callable[[], R]:
    def cached() -> R:
        store = _store_here.get()
        if store is None:
            store = _process_store
        try:
            return store[func]  # type: ignore[no-any-return]
        except KeyError:
            pass
        return store.setdefault(func, func())  # type: ignore[no-any-return]

    cached.__doc__ = func.__doc__
    cached.__name__ = func.__name__
    cached.__qualname__ = func.__qualname__
    cached.__wrapped__ = func  # type: ignore[attr-defined]
    return cached


def use_store(store: Store) -> Token[Store | None]:
    """Make ``store`` the cache of the current context (one invocation of one function)."""
    return _store_here.set(store)


def reset() -> None:
    """Forget the values of the current context's store, and the process-wide ones."""
    store = _store_here.get()
    if store is not None:
        store.clear()
    _process_store.clear()
