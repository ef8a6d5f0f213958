"""Feedback and support tickets: items under their order in OrdersTable (see keys)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from orders.dal import keys, queues
from orders.dal.dynamo import Repository, cancellation_codes, from_item, to_item
from orders.errors import ConcurrentModification, FeedbackExists, FeedbackNotAllowed
from orders.models.aftersales import Feedback, Ticket, TicketStatus
from orders.models.order import OrderStatus

if TYPE_CHECKING:
    from datetime import datetime


FEEDBACK_STATUSES = (OrderStatus.DELIVERED, OrderStatus.COMPLETED)


def ticket_record(ticket: Ticket) -> dict[str, Any]:
    data = ticket.model_dump(mode="json")
    queue: dict[str, Any] = {}
    if ticket.status is TicketStatus.OPEN and data.get("due_at"):
        queue = {
            keys.QUEUE_PK: keys.sharded_queue_pk("TICKET", ticket.status.value, ticket.ticket_id),
            keys.QUEUE_SK: keys.queue_sk(data["due_at"], ticket.ticket_id),
        }
    elif ticket.status is TicketStatus.ANSWERED:
        queue = {
            keys.QUEUE_PK: keys.sharded_queue_pk("TICKET", ticket.status.value, ticket.ticket_id),
            keys.QUEUE_SK: keys.queue_sk(data["updated_at"], ticket.ticket_id),
        }
    return to_item(
        {
            "PK": keys.order_pk(ticket.order_id),
            "SK": keys.ticket_sk(ticket.ticket_id),
            "type": "TICKET",
            **queue,
            **data,
        }
    )


class AfterSalesRepository(Repository):
    # --- feedback ------------------------------------------------------------------------------
    def add_feedback(self, feedback: Feedback) -> None:
        """Write the order's one feedback, on condition that the owner's order is delivered or completed.

        The status check and the write are one transaction, so feedback cannot slip in before delivery.
        """
        try:
            self.client.transact_write_items(
                TransactItems=[
                    {
                        "ConditionCheck": {
                            "TableName": self._table,
                            "Key": {"PK": {"S": keys.order_pk(feedback.order_id)}, "SK": {"S": keys.ORDER_SK}},
                            "ConditionExpression": "#status IN (:delivered, :completed) AND user_id = :user",
                            "ExpressionAttributeNames": {"#status": "status"},
                            "ExpressionAttributeValues": {
                                ":delivered": {"S": OrderStatus.DELIVERED.value},
                                ":completed": {"S": OrderStatus.COMPLETED.value},
                                ":user": {"S": feedback.user_id},
                            },
                        }
                    },
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": to_item(
                                {
                                    "PK": keys.order_pk(feedback.order_id),
                                    "SK": keys.FEEDBACK_SK,
                                    "type": "FEEDBACK",
                                    **feedback.model_dump(mode="json"),
                                }
                            ),
                            "ConditionExpression": "attribute_not_exists(PK)",
                        }
                    },
                ]
            )
        except ClientError as exc:
            codes = cancellation_codes(exc)
            if len(codes) == 2 and codes[1] == "ConditionalCheckFailed":
                raise FeedbackExists(order_id=feedback.order_id) from exc
            if codes and codes[0] == "ConditionalCheckFailed":
                raise FeedbackNotAllowed(order_id=feedback.order_id) from exc
            raise

    def get_feedback(self, order_id: str) -> Feedback | None:
        item = self.client.get_item(
            TableName=self._table,
            Key={"PK": {"S": keys.order_pk(order_id)}, "SK": {"S": keys.FEEDBACK_SK}},
            ConsistentRead=True,
        ).get("Item")
        return Feedback.model_validate(from_item(item)) if item else None

    # --- tickets -------------------------------------------------------------------------------
    def create_ticket(self, ticket: Ticket) -> None:
        self.client.put_item(
            TableName=self._table, Item=ticket_record(ticket), ConditionExpression="attribute_not_exists(PK)"
        )

    def get_ticket(self, order_id: str, ticket_id: str) -> Ticket | None:
        item = self.client.get_item(
            TableName=self._table,
            Key={"PK": {"S": keys.order_pk(order_id)}, "SK": {"S": keys.ticket_sk(ticket_id)}},
            ConsistentRead=True,
        ).get("Item")
        return Ticket.model_validate(from_item(item)) if item else None

    def save_ticket(self, before: Ticket, after: Ticket) -> None:
        """Write ``after`` only if the stored ticket is still ``before`` (version)."""
        if after.version != before.version + 1:
            raise ValueError("a change must raise the version by exactly one")
        try:
            self.client.put_item(
                TableName=self._table,
                Item=ticket_record(after),
                ConditionExpression="#version = :version",
                ExpressionAttributeNames={"#version": "version"},
                ExpressionAttributeValues={":version": {"N": str(before.version)}},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise ConcurrentModification() from exc
            raise

    def ticket_queue(
        self, status: TicketStatus, *, limit: int, cursor: str | None, until: datetime | None = None
    ) -> tuple[list[Ticket], str | None]:
        """Tickets in ``status``, due first (a key-condition Query on GSI3), and the next page's cursor."""
        items, next_cursor = queues.queue_page(
            self.client, self._table, "TICKET", status.value, limit=limit, token=cursor, until=until
        )
        tickets = [Ticket.model_validate(from_item(item)) for item in items]
        return tickets, next_cursor
