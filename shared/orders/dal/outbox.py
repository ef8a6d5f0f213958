"""notify's durable dedupe and record of what was sent: NOTIFICATION and EVENT items in OrdersTable.

Protocol for one delivery (a notification on one channel, or one event on the bus):

1. ``claim``: put the item with ``status = SENDING`` on condition ``attribute_not_exists(PK)``.
   The key is derived from the change (kind, entity id, version or new status, channel), so a
   redelivered stream record finds the item already there.
2. send.
3. ``mark_sent`` (status SENT, provider message id, time) / ``mark_failed`` for a permanent refusal
   (bad device token, rejected address) / ``release`` (delete) for a transient error, so that the
   retry of the batch item sends it.

Crash window: if the process dies between 1 and 3, the redelivered record finds a SENDING claim.
Stream records of one item are processed by one invocation at a time, so a SENDING claim at that
point always belongs to a dead attempt: ``claim`` takes it over (conditional on the old claim
token) and the message is sent again. A duplicate is therefore possible only if the process dies
in the milliseconds between the provider accepting the message and step 3; we prefer that to
losing a "payment failed, pay again" message forever. SENT and FAILED items are never sent again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from orders.dal import keys
from orders.dal.dynamo import Repository, from_item, to_item
from orders.models.common import format_ts

SENDING = "SENDING"
SENT = "SENT"
FAILED = "FAILED"


@dataclass(frozen=True)
class Claim:
    pk: str
    sk: str
    token: str
    taken_over: bool = False


class OutboxRepository(Repository):
    def claim(
        self,
        order_id: str | None,
        sk: str,
        item_type: str,
        attributes: dict[str, Any],
        at: datetime,
        *,
        pk: str | None = None,
    ) -> Claim | None:
        """Claim a delivery; ``None`` when it was already done (SENT or FAILED).

        Under the order's partition, or ``pk`` (a change outside any order: the merchant's partition).
        """
        pk = pk or keys.order_pk(str(order_id))
        token = uuid.uuid4().hex
        item = to_item(
            {
                **attributes,
                "PK": pk,
                "SK": sk,
                "type": item_type,
                "order_id": order_id,
                "status": SENDING,
                "claim": token,
                "at": format_ts(at),
            }
        )
        try:
            self.client.put_item(TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(PK)")
            return Claim(pk, sk, token)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
        existing = self.get(pk, sk)
        if existing is None or existing.get("status") != SENDING:
            return None  # done before (or released and then done): nothing to send
        return self._take_over(pk, sk, str(existing.get("claim", "")), token)

    def _take_over(self, pk: str, sk: str, old: str, token: str) -> Claim | None:
        try:
            self.client.update_item(
                TableName=self._table,
                Key={"PK": {"S": pk}, "SK": {"S": sk}},
                UpdateExpression="SET claim = :new",
                ConditionExpression="#status = :sending AND claim = :old",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":new": {"S": token}, ":old": {"S": old}, ":sending": {"S": SENDING}},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return None
            raise
        return Claim(pk, sk, token, taken_over=True)

    def mark_sent(self, claim: Claim, at: datetime, message_id: str | None) -> None:
        self._finish(claim, SENT, at, {"message_id": message_id} if message_id else {})

    def mark_failed(self, claim: Claim, at: datetime, error: str) -> None:
        self._finish(claim, FAILED, at, {"error": error[:500]})

    def release(self, claim: Claim) -> None:
        """Give a claim back after a transient failure, so a retry of the record sends it."""
        try:
            self.client.delete_item(
                TableName=self._table,
                Key={"PK": {"S": claim.pk}, "SK": {"S": claim.sk}},
                ConditionExpression="claim = :token",
                ExpressionAttributeValues={":token": {"S": claim.token}},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    def _finish(self, claim: Claim, status: str, at: datetime, extra: dict[str, str]) -> None:
        names = {"#status": "status", "#at": "at"} | {f"#{k}": k for k in extra}
        values = to_item(
            {":status": status, ":at": format_ts(at), ":token": claim.token} | {f":{k}": v for k, v in extra.items()}
        )
        sets = ", ".join(["#status = :status", "#at = :at", *(f"#{k} = :{k}" for k in extra)])
        self.client.update_item(
            TableName=self._table,
            Key={"PK": {"S": claim.pk}, "SK": {"S": claim.sk}},
            UpdateExpression=f"SET {sets} REMOVE claim",
            ConditionExpression="claim = :token",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    def get(self, pk: str, sk: str) -> dict[str, Any] | None:
        response = self.client.get_item(
            TableName=self._table, Key={"PK": {"S": pk}, "SK": {"S": sk}}, ConsistentRead=True
        )
        item = response.get("Item")
        return from_item(item) if item else None

    def order_item(self, order_id: str) -> dict[str, Any] | None:
        """The stored order as a plain dict (every attribute, also ones the Order model does not know)."""
        return self.get(keys.order_pk(order_id), keys.ORDER_SK)

    def sent_for_order(self, order_id: str, prefix: str = keys.NOTIFY_PREFIX) -> list[dict[str, Any]]:
        """The NOTIFICATION (or, with ``keys.EVENT_PREFIX``, EVENT) items of an order."""
        response = self.client.query(
            TableName=self._table,
            KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
            ExpressionAttributeValues={":pk": {"S": keys.order_pk(order_id)}, ":prefix": {"S": prefix}},
            ConsistentRead=True,
        )
        return [from_item(item) for item in response.get("Items", [])]
