"""Run the template's functions in this process, each with its own environment, as Lambda would.

Lambda runs each invocation in an execution environment (a process with the function's code
loaded), one invocation at a time per environment, and starts more environments when more
invocations arrive at once. Here the environments share one process, so each is made of:

- its own copy of the handler module (module-level objects such as the Powertools resolver hold
  the current event, so two invocations must never share one), imported on its first use (a
  cold start);
- its own cache of config, clients and repositories (``orders.cache.use_store``);
- the function's settings, read from a ``contextvars`` context of the invocation
  (``orders.config.use_environment_here``); the process environment is never switched.

A function has at most ``concurrency`` environments; a further invocation waits for one to be
free (as a concurrency-limited function makes its poller or queue wait). The invocation runs on
the caller's thread.
"""

from __future__ import annotations

import contextvars
import os
import sys
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from local_stack.powertools_patches import event_per_invocation
from local_stack.template import ROOT, FunctionSpec, function_specs, load_template, resolve

# The layer's package is imported as `orders` (Lambda puts the layer on /opt/python).
if str(ROOT / "shared") not in sys.path:
    sys.path.insert(0, str(ROOT / "shared"))


@dataclass
class LambdaContext:
    """The parts of Lambda's context object that Powertools and the handlers use."""

    function_name: str
    memory_limit_in_mb: int = 512
    timeout_seconds: float = 10.0
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = "local"
    function_version: str = "$LATEST"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return int(self.timeout_seconds * 1000)


DEFAULT_CONCURRENCY = 8  # invocations of one function at once (Lambda's default quota is 1,000 per account)


class LambdaRuntime:
    """Invokes the template's functions in-process.

    ``refs`` resolves !Ref / !GetAtt / !Sub in function environments (logical id → local value);
    ``base_env`` is what every function also sees (region, credentials, endpoints): it is the one
    part that goes into the process environment (boto3 and Powertools read it there).
    ``concurrency``: how many invocations of one function may run at once (a function's
    ``ReservedConcurrentExecutions`` in the template lowers it).
    """

    def __init__(
        self,
        refs: Mapping[str, str],
        base_env: Mapping[str, str] | None = None,
        template: Mapping[str, Any] | None = None,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> None:
        template = template or load_template()
        self.specs: dict[str, FunctionSpec] = function_specs(template)
        self._refs = dict(refs)
        self._base_env = dict(base_env or {})
        self._lock = threading.RLock()
        self._overrides: dict[str, dict[str, str]] = {}
        self._environments: dict[str, dict[str, str]] = {}
        self.concurrency = {
            logical_id: min(concurrency, _reserved(template, logical_id) or concurrency) for logical_id in self.specs
        }
        self._pools = {logical_id: _Pool(n) for logical_id, n in self.concurrency.items()}
        self._running: dict[str, int] = dict.fromkeys(self.specs, 0)
        self.peak: dict[str, int] = dict.fromkeys(self.specs, 0)  # most invocations seen at once, per function
        # Only the variables every function shares go into the process environment, once.
        os.environ.update(self._base_env)

    @property
    def refs(self) -> dict[str, str]:
        """Logical id (or "Id.Attribute") → local value; what !Ref / !GetAtt / !Sub resolve to."""
        return self._refs

    def set_ref(self, name: str, value: str) -> None:
        """Bind a template name to a local value (e.g. a resource made after start-up)."""
        with self._lock:
            self._refs[name] = value
            self._forget()

    def override_environment(self, logical_id: str, **values: str) -> None:
        """Add or replace variables of one function's environment (a test's knob)."""
        with self._lock:
            self._overrides.setdefault(logical_id, {}).update(values)
            self._forget()

    def environment(self, logical_id: str) -> dict[str, str]:
        with self._lock:
            if logical_id not in self._environments:
                spec = self.specs[logical_id]
                resolved = {k: str(v) for k, v in resolve(spec.environment, self._refs).items()}
                self._environments[logical_id] = {
                    **self._base_env,
                    **resolved,
                    **self._overrides.get(logical_id, {}),
                }
            return self._environments[logical_id]

    def invoke(self, logical_id: str, event: Any) -> Any:
        """Run one invocation on this thread, isolated from every other one running at the same time."""
        spec = self.specs[logical_id]
        pool = self._pools[logical_id]
        sandbox = pool.acquire()
        with self._lock:
            self._running[logical_id] += 1
            self.peak[logical_id] = max(self.peak[logical_id], self._running[logical_id])
        try:
            return contextvars.copy_context().run(self._run, spec, sandbox, event)
        finally:
            with self._lock:
                self._running[logical_id] -= 1
            pool.release(sandbox)

    def _run(self, spec: FunctionSpec, sandbox: _Sandbox, event: Any) -> Any:
        from orders import cache, config

        environment = self.environment(spec.logical_id)
        config.use_environment_here(lambda: environment)
        cache.use_store(sandbox.store)
        if sandbox.handler is None:
            event_per_invocation()  # several invocations of one function run at once here, not on Lambda
            # As on Lambda, the settings are in place before the handler module is imported.
            sandbox.handler = spec.load_handler(sandbox.index)
            _serialise_metrics()
        self._name_service(environment.get("POWERTOOLS_SERVICE_NAME"))
        return sandbox.handler(event, LambdaContext(function_name=spec.logical_id))

    def activate(self, logical_id: str) -> None:
        """Make the function's settings the process-wide ones, e.g. to call its logic directly in a test.

        Invocations (``invoke``) are not affected: each reads its own function's settings.
        """
        from orders import cache, config

        environment = self.environment(logical_id)
        config.use_environment(lambda: environment)
        cache.reset()

    _enter = activate  # the name older tests use

    def _forget(self) -> None:
        """Settings changed: every function resolves its environment and builds its values again."""
        self._environments.clear()
        for pool in self._pools.values():
            pool.forget()

    @staticmethod
    def _name_service(service: str | None) -> None:
        """Logger and Metrics read their service name once; in Lambda each function has its own process."""
        if not service or "orders.observability" not in sys.modules:
            return
        from orders.observability import logger

        logger.thread_safe_append_keys(service=service)  # this invocation's context only


@dataclass
class _Sandbox:
    """One execution environment of a function: its handler module copy and its cached values."""

    index: int
    handler: Any = None
    store: dict[Any, Any] = field(default_factory=dict)


class _Pool:
    """A function's execution environments: at most ``size``, each running one invocation at a time."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._idle: list[_Sandbox] = []
        self._all: list[_Sandbox] = []
        self._free = threading.Condition()

    def acquire(self) -> _Sandbox:
        with self._free:
            while not self._idle and len(self._all) >= self.size:
                self._free.wait()
            if self._idle:
                return self._idle.pop()  # the most recently used: warm, as Lambda prefers
            sandbox = _Sandbox(index=len(self._all))
            self._all.append(sandbox)
            return sandbox

    def release(self, sandbox: _Sandbox) -> None:
        with self._free:
            self._idle.append(sandbox)
            self._free.notify()

    def forget(self) -> None:
        """Settings changed: every environment builds its cached values again."""
        with self._free:
            for sandbox in self._all:
                sandbox.store.clear()


_metrics_serialised = False
_metrics_lock = threading.RLock()


def _serialise_metrics() -> None:
    """Powertools' Metrics is one object per process (as in Lambda, where a process runs one
    invocation at a time): with invocations at once, its metric set must not change while it is
    written out. Locally only: the shared package's ``metrics`` gets a lock around its provider."""
    global _metrics_serialised
    if _metrics_serialised or "orders.observability" not in sys.modules:
        return
    from orders.observability import metrics

    provider = metrics.provider
    for name in ("add_metric", "add_dimension", "add_metadata", "serialize_metric_set", "flush_metrics"):
        original = getattr(provider, name, None)
        if original is None:
            continue

        def locked(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
            with _metrics_lock:
                return _original(*args, **kwargs)

        setattr(provider, name, locked)
    _metrics_serialised = True


def _reserved(template: Mapping[str, Any], logical_id: str) -> int | None:
    value = template.get("Resources", {}).get(logical_id, {}).get("Properties", {}).get("ReservedConcurrentExecutions")
    return int(value) if isinstance(value, int) and value > 0 else None
