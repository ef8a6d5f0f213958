"""Client-retry idempotency (``Idempotency-Key``) through Powertools, for every route that takes the header.

A route's logic calls :func:`call` with the function to record and the store its handler wired in
(``orders.adapters.idempotency``); Powertools' wrapper is built once per execution environment and
store, on first use (so cold start stays lean), and its errors become the project's: the same key
with another body is 409 IDEMPOTENCY_KEY_REUSED, a retry while the first request still runs is 409
REQUEST_IN_PROGRESS.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orders import errors
from orders.cache import per_environment
from orders.config import get_config

if TYPE_CHECKING:
    from collections.abc import Callable

    from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from pydantic import BaseModel

    from orders.logic.ports import IdempotencyStore

Wrapped = tuple["Callable[..., Any]", Any]


def call(
    func: Callable[..., Any],
    command: BaseModel,
    lambda_context: LambdaContext | None,
    store: IdempotencyStore,
    *,
    event_key_jmespath: str,
    output: type[BaseModel],
) -> Any:
    """``func(command=command)``, recorded in ``store`` per ``event_key_jmespath`` of the command; the payload
    checked is its ``request``; the result stored and returned as ``output``. Powertools' refusals become the
    project's 409s."""
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    layer = store()
    wrappers = _wrappers()
    key = (func, event_key_jmespath, output, layer)
    if key not in wrappers:
        wrappers.setdefault(key, _wrap(func, layer, event_key_jmespath=event_key_jmespath, output=output))
    run, config = wrappers[key]
    if lambda_context is not None:
        config.register_lambda_context(lambda_context)
    try:
        return run(command=command)
    except IdempotencyValidationError as exc:
        raise errors.IdempotencyKeyReused() from exc
    except IdempotencyAlreadyInProgressError as exc:
        raise errors.RequestInProgress() from exc


@per_environment
def _wrappers() -> dict[tuple[Any, ...], Wrapped]:
    return {}


def _wrap(
    func: Callable[..., Any], layer: BasePersistenceLayer, *, event_key_jmespath: str, output: type[BaseModel]
) -> Wrapped:
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
    from aws_lambda_powertools.utilities.idempotency.serialization.pydantic import PydanticSerializer

    config = IdempotencyConfig(
        event_key_jmespath=event_key_jmespath,
        payload_validation_jmespath="request",
        expires_after_seconds=get_config().idempotency_ttl_seconds,
    )
    wrapped = idempotent_function(
        func,
        data_keyword_argument="command",
        persistence_store=layer,
        config=config,
        output_serializer=PydanticSerializer(output),
    )
    return wrapped, config
