"""Entitlements in OrdersTable: PK USER#<uid>, SK ENTITLEMENT#<order id>#<sku> (see keys)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from orders.dal import keys
from orders.dal.dynamo import Repository, from_item, to_item
from orders.models.aftersales import Entitlement
from orders.models.common import format_ts

if TYPE_CHECKING:
    from datetime import datetime

    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef


class EntitlementsRepository(Repository):
    def grant_item(self, entitlement: Entitlement) -> TransactWriteItemTypeDef:
        """A Put for the order's own transaction; refused if that (order, sku) was ever granted."""
        return {
            "Put": {
                "TableName": self._table,
                "Item": to_item(
                    {
                        "PK": keys.user_pk(entitlement.user_id),
                        "SK": keys.entitlement_sk(entitlement.order_id, entitlement.sku),
                        "type": "ENTITLEMENT",
                        **entitlement.model_dump(mode="json"),
                    }
                ),
                "ConditionExpression": "attribute_not_exists(PK)",
            }
        }

    def list_for_user(self, user_id: str) -> list[Entitlement]:
        found: list[Entitlement] = []
        for page in self.client.get_paginator("query").paginate(
            TableName=self._table,
            KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
            ExpressionAttributeValues={":pk": {"S": keys.user_pk(user_id)}, ":prefix": {"S": keys.ENTITLEMENT_PREFIX}},
            ConsistentRead=True,
        ):
            found += [Entitlement.model_validate(from_item(item)) for item in page.get("Items", [])]
        return found

    def list_for_order(self, user_id: str, order_id: str) -> list[Entitlement]:
        """What one order granted its owner (one record per sku)."""
        response = self.client.query(
            TableName=self._table,
            KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
            ExpressionAttributeValues={
                ":pk": {"S": keys.user_pk(user_id)},
                ":prefix": {"S": keys.entitlement_sk(order_id, "")},
            },
            ConsistentRead=True,
        )
        return [Entitlement.model_validate(from_item(item)) for item in response.get("Items", [])]

    def get(self, user_id: str, order_id: str, sku: str) -> Entitlement | None:
        item = self.client.get_item(
            TableName=self._table,
            Key={"PK": {"S": keys.user_pk(user_id)}, "SK": {"S": keys.entitlement_sk(order_id, sku)}},
            ConsistentRead=True,
        ).get("Item")
        return Entitlement.model_validate(from_item(item)) if item else None

    def revoke(self, before: Entitlement, after: Entitlement) -> bool:
        """Store ``after`` if the record still revokes what ``before`` did; False when someone got there first."""
        values: dict[str, Any] = {
            ":before": {"N": str(before.revoked_quantity)},
            ":after": {"N": str(after.revoked_quantity)},
            ":at": {"S": format_ts(after.revoked_at) if after.revoked_at else ""},
        }
        expression = "SET revoked_quantity = :after, revoked_at = :at"
        if after.expires_at is not None:
            expression += ", expires_at = :expires"
            values[":expires"] = {"S": format_ts(after.expires_at)}
        try:
            self.client.update_item(
                TableName=self._table,
                Key={
                    "PK": {"S": keys.user_pk(before.user_id)},
                    "SK": {"S": keys.entitlement_sk(before.order_id, before.sku)},
                },
                UpdateExpression=expression,
                ConditionExpression="revoked_quantity = :before",
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True


def latest_expiry(entitlements: list[Entitlement], sku: str, now: datetime) -> datetime | None:
    ends = [e.expires_at for e in entitlements if e.sku == sku and e.expires_at and e.active_at(now)]
    return max(ends) if ends else None
