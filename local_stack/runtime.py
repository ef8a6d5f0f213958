"""Run the template's functions in this process, each with its own environment, as Lambda would.

Lambda gives every function a process of its own; here they share one, so an invocation
swaps in the function's environment (resolved from template.yaml) under a lock and resets
the shared package's per-environment caches when the function changes.
"""

from __future__ import annotations

import os
import sys
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

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


class LambdaRuntime:
    """Invokes the template's functions in-process.

    ``refs`` resolves !Ref / !GetAtt / !Sub in function environments (logical id → local value);
    ``base_env`` is what every function also sees (region, credentials, endpoints).
    """

    def __init__(
        self,
        refs: Mapping[str, str],
        base_env: Mapping[str, str] | None = None,
        template: Mapping[str, Any] | None = None,
    ) -> None:
        self.specs: dict[str, FunctionSpec] = function_specs(template or load_template())
        self._refs = dict(refs)
        self._base_env = dict(base_env or {})
        self._lock = threading.RLock()
        self._current: str | None = None
        self._overrides: dict[str, dict[str, str]] = {}

    @property
    def refs(self) -> dict[str, str]:
        """Logical id (or "Id.Attribute") → local value; what !Ref / !GetAtt / !Sub resolve to."""
        return self._refs

    def set_ref(self, name: str, value: str) -> None:
        """Bind a template name to a local value (e.g. a resource made after start-up)."""
        with self._lock:
            self._refs[name] = value
            self._current = None  # environments resolve again on the next invocation

    def override_environment(self, logical_id: str, **values: str) -> None:
        """Add or replace variables of one function's environment (a test's knob)."""
        with self._lock:
            self._overrides.setdefault(logical_id, {}).update(values)
            self._current = None

    def environment(self, logical_id: str) -> dict[str, str]:
        spec = self.specs[logical_id]
        resolved = resolve(spec.environment, self._refs)
        resolved_env = {k: str(v) for k, v in resolved.items()}
        return {**self._base_env, **resolved_env, **self._overrides.get(logical_id, {})}

    def invoke(self, logical_id: str, event: Any) -> Any:
        spec = self.specs[logical_id]
        with self._lock:
            # As on Lambda, the environment is in place before the handler module is imported.
            self._enter(logical_id)
            handler = spec.load_handler()
            return handler(event, LambdaContext(function_name=logical_id))

    def activate(self, logical_id: str) -> None:
        """Switch this process to the function's environment, e.g. to call its logic directly in a test."""
        with self._lock:
            self._enter(logical_id)

    def _enter(self, logical_id: str) -> None:
        if self._current == logical_id:
            return
        from orders import cache, config

        environment = self.environment(logical_id)
        # Variables are only ever added or overwritten, never removed: other threads (moto's
        # executor, botocore's proxy lookup) iterate os.environ while functions switch. What a
        # function may read of its own settings comes from its environment alone (use_environment),
        # so a variable another function left behind is not seen as this function's.
        os.environ.update(environment)
        config.use_environment(lambda: environment)
        cache.reset()
        self._rename_service(environment.get("POWERTOOLS_SERVICE_NAME"))
        self._current = logical_id

    @staticmethod
    def _rename_service(service: str | None) -> None:
        """Logger and Metrics read their service name once; in Lambda each function has its own process."""
        if not service or "orders.observability" not in sys.modules:
            return
        from orders.observability import logger, metrics

        logger.append_keys(service=service)
        metrics.service = service
