"""DynamoDB client and (de)serialisation helpers.

Clients are made lazily on first use and kept for the life of the execution environment,
so importing a handler costs no client construction a request does not need.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

    Item = Mapping[str, AttributeValueTypeDef]
else:
    Item = Mapping[str, Any]

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


@cache
def dynamodb_client() -> DynamoDBClient:
    import boto3

    return boto3.client("dynamodb")


class Repository:
    """Base of the table adapters: one table, a client injected by tests or made lazily."""

    def __init__(self, table_name: str, client: DynamoDBClient | None = None) -> None:
        self._table = table_name
        self._client = client

    @property
    def client(self) -> DynamoDBClient:
        return self._client or dynamodb_client()


def to_item(data: Mapping[str, Any]) -> dict[str, Any]:
    """Python values → DynamoDB attribute values; ``None`` attributes are left out."""
    return {key: _serializer.serialize(value) for key, value in data.items() if value is not None}


def from_item(item: Item) -> dict[str, Any]:
    return {key: _plain(_deserializer.deserialize(value)) for key, value in item.items()}


def _plain(value: Any) -> Any:
    # Every number this service stores is an integer (money in minor units, counters).
    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def cancellation_codes(exc: Exception) -> list[str]:
    """The per-item reasons of a TransactionCanceledException ("None" for items that passed)."""
    response = getattr(exc, "response", {}) or {}
    reasons = response.get("CancellationReasons") or []
    return [reason.get("Code", "None") for reason in reasons]
