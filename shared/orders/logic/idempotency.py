"""Client-retry idempotency (``Idempotency-Key``) through Powertools, for every route that takes the header.

A route builds its wrapper once per execution environment (``@per_environment`` around :func:`wrap`,
so cold start stays lean) and calls it through :func:`call`, which maps Powertools' errors to the
project's: the same key with another body is 409 IDEMPOTENCY_KEY_REUSED, a retry while the first
request still runs is 409 REQUEST_IN_PROGRESS.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orders import errors
from orders.config import get_config

if TYPE_CHECKING:
    from collections.abc import Callable

    from aws_lambda_powertools.utilities.typing import LambdaContext
    from pydantic import BaseModel

Wrapped = tuple["Callable[..., Any]", Any]


def wrap(func: Callable[..., Any], *, event_key_jmespath: str, output: type[BaseModel]) -> Wrapped:
    """``func(command=...)`` recorded per ``event_key_jmespath`` of the command; the payload checked is
    its ``request``; the result stored and returned as ``output``. Returns the wrapper and its config."""
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )
    from aws_lambda_powertools.utilities.idempotency.serialization.pydantic import PydanticSerializer

    from orders.dal.dynamo import dynamodb_client

    settings = get_config()
    config = IdempotencyConfig(
        event_key_jmespath=event_key_jmespath,
        payload_validation_jmespath="request",
        expires_after_seconds=settings.idempotency_ttl_seconds,
    )
    store = DynamoDBPersistenceLayer(table_name=settings.table("idempotency_table"), boto3_client=dynamodb_client())
    wrapped = idempotent_function(
        func,
        data_keyword_argument="command",
        persistence_store=store,
        config=config,
        output_serializer=PydanticSerializer(output),
    )
    return wrapped, config


def call(wrapped: Wrapped, command: BaseModel, lambda_context: LambdaContext | None) -> Any:
    """Run the wrapped function on ``command``; Powertools' refusals become the project's 409s."""
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    run, config = wrapped
    if lambda_context is not None:
        config.register_lambda_context(lambda_context)
    try:
        return run(command=command)
    except IdempotencyValidationError as exc:
        raise errors.IdempotencyKeyReused() from exc
    except IdempotencyAlreadyInProgressError as exc:
        raise errors.RequestInProgress() from exc
