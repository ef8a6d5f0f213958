"""The cart in OrdersTable: one item per user, next to their preferences.

    item   PK          SK     notes
    cart   USER#<uid>  CART   lines, version; ``ttl`` (epoch seconds) lets DynamoDB delete an idle cart

It lives in OrdersTable, not CatalogTable: it is per-user state like preferences (same partition, same
least-privilege grants as the other user routes), and checkout must delete it in the same transaction
that writes the orders, which all live in OrdersTable. In no index (no GSI attributes).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from orders.dal import keys
from orders.dal.dynamo import Repository, from_item, to_item
from orders.errors import CartChanged
from orders.models.cart import Cart
from orders.models.common import format_ts

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

CART_SK = "CART"
TTL_ATTRIBUTE = "ttl"


class CartRepository(Repository):
    def get(self, user_id: str) -> Cart:
        """The user's cart; an empty one (version 0) when there is none or it expired."""
        item = self.client.get_item(
            TableName=self._table, Key={"PK": {"S": keys.user_pk(user_id)}, "SK": {"S": CART_SK}}, ConsistentRead=True
        ).get("Item")
        if not item:
            return Cart(user_id=user_id)
        data = from_item(item)
        return Cart.model_validate({k: v for k, v in data.items() if k in Cart.model_fields})

    def save(self, cart: Cart, read_version: int, now: datetime, idle: timedelta) -> Cart:
        """Write the cart as version ``read_version + 1``, on condition nobody wrote it since it was read."""
        saved = cart.model_copy(update={"version": read_version + 1, "updated_at": now})
        item = {
            "PK": keys.user_pk(cart.user_id),
            "SK": CART_SK,
            "type": "CART",
            "user_id": cart.user_id,
            "lines": [line.model_dump() for line in saved.lines],
            "version": saved.version,
            "updated_at": format_ts(now),
            TTL_ATTRIBUTE: int((now + idle).timestamp()),
        }
        condition = "attribute_not_exists(PK)" if read_version == 0 else "version = :v"
        request: dict[str, object] = {"TableName": self._table, "Item": to_item(item), "ConditionExpression": condition}
        if read_version:
            request["ExpressionAttributeValues"] = {":v": {"N": str(read_version)}}
        try:
            self.client.put_item(**request)  # type: ignore[arg-type]
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise CartChanged(version=read_version) from exc
            raise
        return saved

    def deletion(self, user_id: str, version: int) -> TransactWriteItemTypeDef:
        """Remove the cart in a transaction, on condition it is still the version that was checked out."""
        return {
            "Delete": {
                "TableName": self._table,
                "Key": {"PK": {"S": keys.user_pk(user_id)}, "SK": {"S": CART_SK}},
                "ConditionExpression": "version = :v",
                "ExpressionAttributeValues": {":v": {"N": str(version)}},
            }
        }

    def delete(self, user_id: str) -> None:
        self.client.delete_item(TableName=self._table, Key={"PK": {"S": keys.user_pk(user_id)}, "SK": {"S": CART_SK}})
