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

_patched = False
# The first invocations of several functions can start at once: patching twice would leave the class's
# property and the metaclass's on two different variables (the event set on one, read from the other: None).
_patching = threading.Lock()


def event_per_invocation() -> None:
    with _patching:
        _patch_once()


def _patch_once() -> None:
    global _patched
    if _patched:
        return
    from aws_lambda_powertools.event_handler.api_gateway import BaseRouter

    current: contextvars.ContextVar[Any] = contextvars.ContextVar("powertools_current_event", default=None)
    context: contextvars.ContextVar[Any] = contextvars.ContextVar("powertools_lambda_context", default=None)

    def _get(var: contextvars.ContextVar[Any]) -> Any:
        def setter(_self: Any, value: Any) -> None:
            var.set(value)

        return property(lambda _self: var.get(), setter)

    # Instances (the resolver: ``self.current_event``) read the class's property ...
    BaseRouter.current_event = _get(current)
    BaseRouter.lambda_context = _get(context)

    # ... and ``BaseRouter.current_event = ...`` / ``BaseRouter.current_event`` (class access) go through
    # the metaclass's data descriptors, which take precedence over the class's own attributes.
    class _PerInvocation(ABCMeta):
        current_event = _get(current)
        lambda_context = _get(context)

    BaseRouter.__class__ = _PerInvocation  # type: ignore[method-assign,assignment]
    _patched = True
