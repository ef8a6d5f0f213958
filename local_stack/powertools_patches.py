"""Powertools' REST resolver keeps the current event on its base *class* (``BaseRouter.current_event``).

On Lambda a process runs one invocation at a time, so that is harmless there. The local stack runs
several invocations of a function at once in one process (as several Lambda execution environments
would), and a class attribute is then shared by all of them: one request could read another's event
(its caller, its body). :func:`event_per_invocation` makes the two attributes context-local, so each
invocation (each runs in its own ``contextvars`` context, see ``runtime.LambdaRuntime.invoke``) sees
only its own event. Local stack only: nothing here ships in the layer.
"""

from __future__ import annotations

import contextvars
import threading
from abc import ABCMeta
from typing import Any

_current: contextvars.ContextVar[Any] = contextvars.ContextVar("powertools_current_event", default=None)
_context: contextvars.ContextVar[Any] = contextvars.ContextVar("powertools_lambda_context", default=None)


def _per_context(var: contextvars.ContextVar[Any]) -> property:
    def setter(_self: Any, value: Any) -> None:
        var.set(value)

    return property(lambda _self: var.get(), setter)


class _PerInvocation(ABCMeta):
    """``BaseRouter.current_event = ...`` / ``BaseRouter.current_event`` (class access) go through the
    metaclass's data descriptors, which take precedence over the class's own attributes."""

    current_event = _per_context(_current)
    lambda_context = _per_context(_context)


_lock = threading.Lock()


def event_per_invocation() -> None:
    """Apply the patch once. Cold starts of several functions run at once, each calling this: a second
    application racing the first (before it was marked done) assigned the properties through the new
    metaclass, i.e. stored a property object as the current event ("'property' object has no
    attribute 'http_method'" on the first requests), hence the lock and the check on the metaclass."""
    from aws_lambda_powertools.event_handler.api_gateway import BaseRouter

    with _lock:
        if type(BaseRouter) is _PerInvocation:
            return
        # Instances (the resolver: ``self.current_event``) read the class's property ...
        BaseRouter.current_event = _per_context(_current)  # type: ignore[assignment]
        BaseRouter.lambda_context = _per_context(_context)  # type: ignore[assignment]
        # ... and class access goes through the metaclass.
        BaseRouter.__class__ = _PerInvocation  # type: ignore[method-assign,assignment]
