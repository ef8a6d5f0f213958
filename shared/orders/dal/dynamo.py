"""DynamoDB client and (de)serialisation helpers.

Clients are made lazily on first use and kept for the life of the execution environment,
so importing a handler costs no client construction a request does not need.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from orders.errors import ConcurrentModification

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef, TransactWriteItemTypeDef

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

    def transact(self, items: list[TransactWriteItemTypeDef]) -> None:
        """Write ``items`` together; ConcurrentModification (with the refused items) when a condition fails."""
        try:
            self.client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            codes = cancellation_codes(exc)
            if exc.response["Error"]["Code"] == "TransactionCanceledException" and "ConditionalCheckFailed" in codes:
                raise refused(codes) from exc
            raise

    def versioned_update(
        self,
        key: dict[str, Any],
        data: Mapping[str, Any],
        *,
        before_status: str,
        before_version: int,
        remove: Sequence[str] = (),
    ) -> TransactWriteItemTypeDef:
        """An Update setting ``data`` (a None value removes the attribute) and removing ``remove``, on condition
        that the stored item still has ``before_status`` and ``before_version``.

        An Update, not a Put: attributes ``data`` does not name (those the workflow wrote: the task token, the
        queue keys) stay unless removed.
        """
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        sets, removes = [], []
        for index, (field, value) in enumerate(sorted(data.items())):
            names[f"#f{index}"] = field
            if value is None:
                removes.append(f"#f{index}")
            else:
                sets.append(f"#f{index} = :v{index}")
                values[f":v{index}"] = _serializer.serialize(value)
        removes += remove
        names |= {"#status": "status", "#version": "version"}
        values |= {":before_status": {"S": before_status}, ":before_version": {"N": str(before_version)}}
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        return {
            "Update": {
                "TableName": self._table,
                "Key": key,
                "UpdateExpression": expression,
                "ConditionExpression": "#status = :before_status AND #version = :before_version",
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
        }


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


def refused(codes: list[str]) -> ConcurrentModification:
    """The conflict of a cancelled transaction; ``failed_items``: the indexes of the items whose condition failed."""
    conflict = ConcurrentModification()
    conflict.failed_items = tuple(index for index, code in enumerate(codes) if code == "ConditionalCheckFailed")
    return conflict
