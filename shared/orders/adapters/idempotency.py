"""Where Idempotency-Key records live: Powertools' DynamoDB persistence layer on IdempotencyTable.

A handler that takes the header wires :func:`persistence_layer` once (``@per_environment``) and hands it
to the logic (orders.logic.idempotency), which calls it only for a request that carries a key: a request
without one imports nothing of Powertools' idempotency. One layer per idempotent function: Powertools
configures a layer once, with the settings of the first function recorded in it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orders.config import get_config
from orders.dal.dynamo import dynamodb_client

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer


def persistence_layer() -> BasePersistenceLayer:
    """A DynamoDB persistence layer on the function's IDEMPOTENCY_TABLE, with the function's DynamoDB client."""
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    table = get_config().table("idempotency_table")
    return DynamoDBPersistenceLayer(table_name=table, boto3_client=dynamodb_client())
