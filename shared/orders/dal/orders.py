"""Orders and their timelines in OrdersTable.

Every status change is one TransactWriteItems: the order, written on condition that its
status and version are what the change was computed from, plus the timeline event, written
on condition that it is new. Either both land or neither does.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

from orders.dal import cursor, keys, queues
from orders.dal.dynamo import Repository, from_item, to_item
from orders.dal.queues import query_queue
from orders.models.catalog import DEFAULT_MERCHANT
from orders.models.common import format_ts
from orders.models.order import Order, OrderStatus, TimelineEvent

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef


@dataclass(frozen=True)
class OrderPage:
    items: list[Order]
    next_cursor: str | None
    items_read: int  # DynamoDB's ScannedCount: what the page cost, whatever the table holds


class OrderQuery(TypedDict):
    """A page of someone's orders: ``status`` (any when None), created between ``start`` and ``end``
    (inclusive; either open), at most ``limit``, after the cursor ``after``."""

    status: OrderStatus | None
    start: datetime | None
    end: datetime | None
    limit: int
    after: str | None


# Statuses in which an order waits for a scheduled job, and the time it waits for (see keys).
UNPAID_QUEUES = (OrderStatus.PENDING_PAYMENT, OrderStatus.PAYMENT_FAILED)
# Statuses in which an order waits for ops (the console's shipping queues), oldest order first.
SHIPPING_QUEUES = (OrderStatus.PENDING_SHIPMENT, OrderStatus.SHIPPED)


def _queue_keys(data: dict[str, Any], order: Order) -> dict[str, Any]:
    due: str | None = None
    if order.status in UNPAID_QUEUES:
        due = data.get("expires_at")
    elif order.status is OrderStatus.DELIVERED:
        due = data.get("delivered_at")
    elif order.status in SHIPPING_QUEUES:
        due = data.get("created_at")
    if due is None:
        return {}
    return {
        keys.QUEUE_PK: keys.sharded_queue_pk("ORDER", order.status.value, order.order_id),
        keys.QUEUE_SK: keys.queue_sk(due, order.order_id),
    }


def _merchant_keys(order: Order, created: str) -> dict[str, Any]:
    """GSI5: a merchant's orders by status (sparse: the platform's own orders are ops' work; see keys)."""
    if not order.merchant_id or order.merchant_id == DEFAULT_MERCHANT:
        return {}
    return {
        keys.MERCHANT_INDEX + "PK": keys.merchant_status_pk(order.merchant_id, order.status.value),
        keys.MERCHANT_INDEX + "SK": created,
    }


def order_record(order: Order) -> dict[str, Any]:
    """The DynamoDB item of an order, with its index keys (GSI3 only while a job waits on it)."""
    data = order.model_dump(mode="json")
    created = keys.created_sk(data["created_at"], order.order_id)
    return to_item(
        {
            "PK": keys.order_pk(order.order_id),
            "SK": keys.ORDER_SK,
            "type": "ORDER",
            keys.USER_INDEX + "PK": keys.user_pk(order.user_id),
            keys.USER_INDEX + "SK": created,
            keys.USER_STATUS_INDEX + "PK": keys.user_status_pk(order.user_id, order.status.value),
            keys.USER_STATUS_INDEX + "SK": created,
            keys.CREATED_DAY_INDEX + "PK": keys.sharded_created_day_pk(data["created_at"][:10], order.order_id),
            keys.CREATED_DAY_INDEX + "SK": created,
            **_queue_keys(data, order),
            **_merchant_keys(order, created),
            **data,
        }
    )


def _event_item(order_id: str, event: TimelineEvent) -> dict[str, Any]:
    return to_item(
        {
            "PK": keys.order_pk(order_id),
            "SK": keys.timeline_sk(event.version),
            "type": "TIMELINE",
            "order_id": order_id,
            **event.model_dump(mode="json"),
        }
    )


class OrdersRepository(Repository):
    # --- writes ------------------------------------------------------------------------------
    def create(self, order: Order, event: TimelineEvent, extra: list[TransactWriteItemTypeDef] | None = None) -> None:
        """Write a new order and its first event; ``extra`` items (e.g. stock reservations) join the transaction.

        Raises ConcurrentModification whose ``failed_items`` index the refused items (the order is item 0).
        """
        self.transact(
            [
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": order_record(order),
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                },
                self._put_event(order.order_id, event),
                *(extra or []),
            ]
        )

    def create_many(self, created: list[tuple[Order, TimelineEvent]], extra: list[TransactWriteItemTypeDef]) -> None:
        """Write several new orders and their first events in one transaction, then ``extra``.

        Order i is item 2i and its event 2i+1; ``extra`` starts at item 2 * len(created).
        """
        items: list[TransactWriteItemTypeDef] = []
        for order, event in created:
            items.append(
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": order_record(order),
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                }
            )
            items.append(self._put_event(order.order_id, event))
        self.transact([*items, *extra])

    def save_change(
        self,
        before: Order,
        after: Order,
        event: TimelineEvent,
        extra: list[TransactWriteItemTypeDef] | None = None,
    ) -> None:
        """Write ``after`` only if the stored order is still ``before`` (status and version)."""
        if after.version != before.version + 1 or event.version != after.version:
            raise ValueError("a change must raise the version by exactly one")
        self.transact(
            [
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": order_record(after),
                        "ConditionExpression": "#status = :status AND #version = :version",
                        "ExpressionAttributeNames": {"#status": "status", "#version": "version"},
                        "ExpressionAttributeValues": {
                            ":status": {"S": before.status.value},
                            ":version": {"N": str(before.version)},
                        },
                    }
                },
                self._put_event(after.order_id, event),
                *(extra or []),
            ]
        )

    def _put_event(self, order_id: str, event: TimelineEvent) -> TransactWriteItemTypeDef:
        return {
            "Put": {
                "TableName": self._table,
                "Item": _event_item(order_id, event),
                "ConditionExpression": "attribute_not_exists(PK)",
            }
        }

    # --- reads -------------------------------------------------------------------------------
    def due_orders(self, status: OrderStatus, until: datetime, limit: int) -> list[str]:
        """Ids of orders waiting in ``status`` whose due time is at or before ``until``, oldest first.

        A key-condition Query on the sparse GSI3 work queue (see keys), never a scan.
        """
        partitions = keys.queue_partitions("ORDER", status.value)
        return [str(item["order_id"]["S"]) for item in query_queue(self.client, self._table, partitions, until, limit)]

    def shipping_queue(self, status: OrderStatus, *, limit: int, after: str | None) -> OrderPage:
        """Orders waiting for ops in ``status`` (to ship, to deliver), oldest first: a Query on GSI3."""
        if status not in SHIPPING_QUEUES:
            raise ValueError(f"{status.value} is not a shipping queue")
        raw, next_cursor = queues.queue_page(self.client, self._table, "ORDER", status.value, limit=limit, token=after)
        orders = [Order.model_validate(from_item(item)) for item in raw]
        return OrderPage(items=orders, next_cursor=next_cursor, items_read=len(raw))

    def get(self, order_id: str) -> Order | None:
        response = self.client.get_item(
            TableName=self._table,
            Key={"PK": {"S": keys.order_pk(order_id)}, "SK": {"S": keys.ORDER_SK}},
            ConsistentRead=True,
        )
        item = response.get("Item")
        return Order.model_validate(from_item(item)) if item else None

    def get_with_timeline(self, order_id: str) -> tuple[Order | None, list[TimelineEvent]]:
        """The order and its timeline, oldest first, in one Query (see keys)."""
        order: Order | None = None
        events: list[TimelineEvent] = []
        for data in self.order_partition(order_id, until=keys.TIMELINE_END, consistent=True):
            if data["SK"] == keys.ORDER_SK:
                order = Order.model_validate(data)
            else:
                events.append(TimelineEvent.model_validate(data))
        return order, events

    def order_partition(self, order_id: str, *, until: str, consistent: bool) -> Iterator[dict[str, Any]]:
        """The items of an order's partition from the order item (``#ORDER``) up to sort key ``until``."""
        paginator = self.client.get_paginator("query")
        for page in paginator.paginate(
            TableName=self._table,
            KeyConditionExpression="PK = :pk AND SK BETWEEN :first AND :last",
            ExpressionAttributeValues={
                ":pk": {"S": keys.order_pk(order_id)},
                ":first": {"S": keys.ORDER_SK},
                ":last": {"S": until},
            },
            ConsistentRead=consistent,
        ):
            for item in page.get("Items", []):
                yield from_item(item)

    def list_for_user(self, user_id: str, **query: Unpack[OrderQuery]) -> OrderPage:
        """The user's orders, newest first, filtered by key conditions only (no filter expression).

        Reads at most ``limit + 1`` index entries: the extra one only tells whether a next page exists.
        """
        status, start, end = query["status"], query["start"], query["end"]
        if status is None:
            index, partition = keys.USER_INDEX, keys.user_pk(user_id)
        else:
            index, partition = keys.USER_STATUS_INDEX, keys.user_status_pk(user_id, status.value)
        pk_attr, sk_attr = f"{index}PK", f"{index}SK"
        condition = f"{pk_attr} = :pk"
        values: dict[str, Any] = {":pk": {"S": partition}}
        if start is not None or end is not None:
            condition += f" AND {sk_attr} BETWEEN :from AND :to"
            # "<ts>#<id>" keys: the bare start time sorts before every key at that instant,
            # and "<end>#~" after every key at the end instant ('~' sorts after any id character).
            values[":from"] = {"S": format_ts(start) if start else "0"}
            values[":to"] = {"S": (format_ts(end) if end else "9999") + "#~"}
        request = {
            "TableName": self._table,
            "IndexName": index,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
        }
        page = cursor.query_page(
            self.client,
            request,
            limit=query["limit"],
            after=query["after"],
            expected={pk_attr: partition, "SK": keys.ORDER_SK},
            key=("PK", "SK", pk_attr, sk_attr),
        )
        orders = [Order.model_validate(from_item(item)) for item in page.items]
        return OrderPage(items=orders, next_cursor=page.next_cursor, items_read=page.items_read)
