"""Refund items in OrdersTable (under their order; see keys) and the reviewer queue on GSI3.

Refund writes are transaction items handed to ``OrdersRepository.save_change(extra=[...])``, so a
refund and its order (reservation, refunded total, status, timeline) always change together.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from orders.dal import keys, queues
from orders.dal.dynamo import Repository, from_item, to_item
from orders.models.common import format_ts
from orders.models.order import Order
from orders.models.refund import AutoApprovals, Refund, RefundStatus, order_id_of

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

# Attributes of the item that are not fields of the model.
_KEY_ATTRIBUTES = ("PK", "SK", "type")
_QUEUE_ATTRIBUTES = (f"{keys.QUEUE_INDEX}PK", f"{keys.QUEUE_INDEX}SK")
_USER_ATTRIBUTES = (f"{keys.USER_STATUS_INDEX}PK", f"{keys.USER_STATUS_INDEX}SK")


@dataclass(frozen=True)
class RefundPage:
    items: list[Refund]
    next_cursor: str | None


def _key(order_id: str, refund_id: str) -> dict[str, Any]:
    return {"PK": {"S": keys.order_pk(order_id)}, "SK": {"S": keys.refund_sk(refund_id)}}


def refund_record(refund: Refund) -> dict[str, Any]:
    return to_item(
        {
            "PK": keys.order_pk(refund.order_id),
            "SK": keys.refund_sk(refund.refund_id),
            "type": "REFUND",
            # A user's refunds, newest first, for reviewers (GSI2; see keys).
            _USER_ATTRIBUTES[0]: keys.user_refunds_pk(refund.user_id),
            _USER_ATTRIBUTES[1]: keys.queue_sk(format_ts(refund.requested_at), refund.refund_id),
            **refund.model_dump(mode="json"),
        }
    )


class RefundsRepository(Repository):
    # --- transaction items -------------------------------------------------------------------
    def put_new(self, refund: Refund) -> TransactWriteItemTypeDef:
        return {
            "Put": {
                "TableName": self._table,
                "Item": refund_record(refund),
                "ConditionExpression": "attribute_not_exists(PK)",
            }
        }

    def update(self, before: Refund, after: Refund) -> TransactWriteItemTypeDef:
        """Write ``after`` only if the stored refund is still ``before`` (status and version).

        An Update, not a Put: attributes the workflow wrote (task token, queue keys) stay unless
        ``after`` drops them; leaving PENDING_REVIEW takes the refund out of the reviewer queue.
        """
        if after.version != before.version + 1 or after.refund_id != before.refund_id:
            raise ValueError("a refund change must raise its version by exactly one")
        return self.versioned_update(
            _key(after.order_id, after.refund_id),
            after.model_dump(mode="json", exclude={"refund_id", "order_id"}),
            before_status=before.status.value,
            before_version=before.version,
            remove=() if after.in_review else _QUEUE_ATTRIBUTES,
        )

    def auto_approvals_put(self, before: AutoApprovals, after: AutoApprovals) -> TransactWriteItemTypeDef:
        """Store ``after`` if the record is still ``before`` (its version; absent when version 0)."""
        item = to_item(
            {
                "PK": keys.user_pk(after.user_id),
                "SK": keys.AUTO_APPROVALS_SK,
                "type": "AUTO_APPROVALS",
                **after.model_dump(mode="json"),
            }
        )
        if before.version == 0:
            return {"Put": {"TableName": self._table, "Item": item, "ConditionExpression": "attribute_not_exists(PK)"}}
        return {
            "Put": {
                "TableName": self._table,
                "Item": item,
                "ConditionExpression": "#version = :version",
                "ExpressionAttributeNames": {"#version": "version"},
                "ExpressionAttributeValues": {":version": {"N": str(before.version)}},
            }
        }

    # --- reads -------------------------------------------------------------------------------
    def auto_approvals(self, user_id: str) -> AutoApprovals:
        item = self.client.get_item(
            TableName=self._table,
            Key={"PK": {"S": keys.user_pk(user_id)}, "SK": {"S": keys.AUTO_APPROVALS_SK}},
            ConsistentRead=True,
        ).get("Item")
        if not item:
            return AutoApprovals(user_id=user_id)
        data = from_item(item)
        return AutoApprovals.model_validate({k: v for k, v in data.items() if k not in _KEY_ATTRIBUTES})

    def get(self, refund_id: str) -> Refund | None:
        order_id = order_id_of(refund_id)
        if order_id is None:
            return None
        response = self.client.get_item(TableName=self._table, Key=_key(order_id, refund_id), ConsistentRead=True)
        item = response.get("Item")
        return _refund(item) if item else None

    def get_with_order(self, refund_id: str) -> tuple[Refund | None, Order | None]:
        """The refund and its order in one strongly consistent BatchGetItem: they share the order's partition."""
        order_id = order_id_of(refund_id)
        if order_id is None:
            return None, None
        order_key = {"PK": {"S": keys.order_pk(order_id)}, "SK": {"S": keys.ORDER_SK}}
        request: dict[str, Any] = {
            self._table: {"Keys": [_key(order_id, refund_id), order_key], "ConsistentRead": True}
        }
        items: list[Any] = []
        while request:
            response = self.client.batch_get_item(RequestItems=request)
            items += response.get("Responses", {}).get(self._table, [])
            request = response.get("UnprocessedKeys") or {}
        refund = order = None
        for item in items:
            if item["SK"]["S"] == keys.ORDER_SK:
                order = Order.model_validate(from_item(item))
            else:
                refund = _refund(item)
        return refund, order

    def list_for_order(self, order_id: str) -> list[Refund]:
        """The order's refunds, oldest first (refund ids are not time-ordered: sorted by request time)."""
        refunds: list[Refund] = []
        paginator = self.client.get_paginator("query")
        for page in paginator.paginate(
            TableName=self._table,
            KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
            ExpressionAttributeValues={":pk": {"S": keys.order_pk(order_id)}, ":prefix": {"S": keys.REFUND_PREFIX}},
            ConsistentRead=True,
        ):
            refunds += [_refund(item) for item in page.get("Items", [])]
        return sorted(refunds, key=lambda refund: refund.requested_at)

    def list_for_user(self, user_id: str, *, limit: int) -> list[Refund]:
        """The user's latest ``limit`` refunds, newest first: one key-condition Query on GSI2."""
        response = self.client.query(
            TableName=self._table,
            IndexName=keys.USER_STATUS_INDEX,
            KeyConditionExpression=f"{_USER_ATTRIBUTES[0]} = :pk",
            ExpressionAttributeValues={":pk": {"S": keys.user_refunds_pk(user_id)}},
            ScanIndexForward=False,
            Limit=limit,
        )
        return [_refund(item) for item in response.get("Items", [])]

    def review_queue(self, *, limit: int, after: str | None) -> RefundPage:
        """Refunds awaiting review, the one due first first: a key-condition Query on GSI3."""
        raw, next_cursor = queues.queue_page(
            self.client, self._table, "REFUND", RefundStatus.PENDING_REVIEW.value, limit=limit, token=after
        )
        return RefundPage(items=[_refund(item) for item in raw], next_cursor=next_cursor)


def _refund(item: Any) -> Refund:
    data = from_item(item)
    for name in (*_KEY_ATTRIBUTES, *_QUEUE_ATTRIBUTES, *_USER_ATTRIBUTES):
        data.pop(name, None)
    return Refund.model_validate(data)
