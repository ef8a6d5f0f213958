"""Lambda SnapStart: what a function prepares before the snapshot of its published version is taken.

With SnapStart (template.yaml Globals: AutoPublishAlias + SnapStart ApplyOn PublishedVersions), Lambda runs the
init phase once per published version, snapshots the execution environment's memory and disk, and starts new
environments from that snapshot instead of running init again (docs/cold-start.md). What init leaves for the
first request would still be paid after every restore: boto3 clients are made on first use, pydantic models
build their validators on first use (``defer_build``), provider SDKs are imported on first use. The hook
registered here (:func:`warm`) does that work before the snapshot instead, without calling any service: no
connection is opened, no secret or credential is read into the snapshot.

``snapshot_restore_py`` is part of the python3.12+ managed runtimes and is not shipped in the layer; the
development virtualenv has it from PyPI (snapshot-restore-py), where registering is harmless: nothing calls
the hooks outside Lambda. Every handler imports ``orders.observability``, which imports this module.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from orders.models.base import Model

try:
    from snapshot_restore_py import register_before_snapshot  # type: ignore[import-untyped]
except ImportError:  # neither on Lambda's runtime nor installed: there is no snapshot to prepare for

    def register_before_snapshot(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[..., Any]:
        return func


# A configuration field that is set → the client the function makes at its first request that needs it.
CLIENTS = {
    "orders_table": "orders.dal.dynamo:dynamodb_client",
    "catalog_table": "orders.dal.dynamo:dynamodb_client",
    "idempotency_table": "orders.dal.dynamo:dynamodb_client",
    "refund_state_machine_arn": "orders.dal.workflow:sfn_client",
    "event_bus_name": "orders.adapters.clients:events_client",
    "sender_email": "orders.adapters.clients:ses_client",
    "apns_platform_application_arn": "orders.adapters.clients:sns_client",
    "fcm_platform_application_arn": "orders.adapters.clients:sns_client",
    "user_pool_id": "orders.adapters.clients:cognito_client",
    "reports_bucket": "orders.adapters.report_store:s3_client",
}
# When the function imported the code that calls the payment providers (it imports them on first use) ...
PROVIDER_USERS = ("orders.logic.payments", "orders.adapters.refund_gateway", "orders.adapters.payments")
# ... the adapters and the provider SDKs they import.
PROVIDER_MODULES = (
    "orders.adapters.payments.stripe_adapter",
    "stripe",
    "orders.adapters.payments.apple_adapter",
    "appstoreserverlibrary.signed_data_verifier",
    "orders.adapters.payments.google_adapter",
    "google.oauth2.id_token",
    "google.auth.transport.requests",
)


def warm() -> list[str]:
    """Make the function's config and clients, import its provider SDKs and build its models; returns what
    was made. A part that fails is logged and left to the first request (a snapshot is never refused for it)."""
    from orders.config import get_config
    from orders.observability import logger

    made: list[str] = []

    def attempt(name: str, make: Callable[[], object]) -> None:
        try:
            make()
        except Exception as exc:  # left for the first request, which reports it properly
            logger.warning("not prepared before the snapshot", extra={"part": name, "error": repr(exc)})
        else:
            made.append(name)

    attempt("config", get_config)
    config = get_config()
    for field, target in CLIENTS.items():
        if getattr(config, field, None) and target not in made:
            module, _, factory = target.partition(":")
            attempt(target, partial(_call, module, factory))
    if any(name in sys.modules for name in PROVIDER_USERS):
        from orders.layer_paths import use_apple_deps

        use_apple_deps()
        for module in PROVIDER_MODULES:
            attempt(module, partial(importlib.import_module, module))
    from orders.models.base import Model

    for model in _subclasses(Model):
        attempt(f"{model.__module__}.{model.__qualname__}", partial(model.model_rebuild, force=True))
    return made


def _call(module: str, factory: str) -> object:
    return getattr(importlib.import_module(module), factory)()


def _subclasses(cls: type[Model]) -> Iterator[type[Model]]:
    sub: type[Model]
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


register_before_snapshot(warm)
