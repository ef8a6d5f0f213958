"""Carrier tracking items in OrdersTable (see keys): events, the parcel's state, milestones, dedupe.

    item                PK                                SK                                  notes
    tracking event      ORDER#<id>                        TRACKEVENT#<occurred_at>#<event id> by carrier time
    tracking state      ORDER#<id>                        TRACKING                            versioned, never backwards
    milestone           ORDER#<id>                        TRACKING#MILESTONE#<status>         written once: notify + bus
    carrier event seen  CARRIEREVENT#<carrier>#<event id> CARRIEREVENT                        dedupe, TTL ``ttl``

One callback is one TransactWriteItems: the dedupe item (attribute_not_exists), the event, and (when the
event moves the parcel forward) the state (conditional on its version) and a first-reached milestone.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from orders.dal.aftersales import ticket_record
from orders.dal.dynamo import Repository, cancellation_codes, from_item, to_item
from orders.dal.keys import order_pk
from orders.errors import CarrierEventReplayed, ConcurrentModification
from orders.models.aftersales import Ticket
from orders.models.tracking import TrackingEvent, TrackingState

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

EVENT_PREFIX = "TRACKEVENT#"
STATE_SK = "TRACKING"
MILESTONE_PREFIX = "TRACKING#MILESTONE#"
DEDUPE_SK = "CARRIEREVENT"


def event_sk(event: TrackingEvent) -> str:
    return f"{EVENT_PREFIX}{event.model_dump(mode='json')['occurred_at']}#{event.event_id}"


def dedupe_pk(carrier: str, event_id: str) -> str:
    return f"CARRIEREVENT#{carrier}#{event_id}"


def milestone_sk(status: str) -> str:
    return f"{MILESTONE_PREFIX}{status}"


class TrackingRepository(Repository):
    def state(self, order_id: str) -> TrackingState | None:
        item = self.client.get_item(
            TableName=self._table, Key={"PK": {"S": order_pk(order_id)}, "SK": {"S": STATE_SK}}, ConsistentRead=True
        ).get("Item")
        return TrackingState.model_validate(from_item(item)) if item else None

    def events(self, order_id: str) -> list[TrackingEvent]:
        """Every event of the order, oldest first by the carrier's time (the sort key)."""
        found: list[TrackingEvent] = []
        paginator = self.client.get_paginator("query")
        for page in paginator.paginate(
            TableName=self._table,
            KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
            ExpressionAttributeValues={":pk": {"S": order_pk(order_id)}, ":prefix": {"S": EVENT_PREFIX}},
        ):
            found.extend(TrackingEvent.model_validate(from_item(item)) for item in page.get("Items", []))
        return found

    def record(
        self,
        order_id: str,
        user_id: str,
        event: TrackingEvent,
        *,
        before: TrackingState | None,
        after: TrackingState | None,
        new_milestone: str | None,
        expires_at: datetime,
    ) -> None:
        """Store ``event`` once; with ``after``, move the state from ``before`` (conditional on its version).

        Raises CarrierEventReplayed when the event id was already recorded (nothing is written) and
        ConcurrentModification when another callback moved the state first (read again and re-decide).
        """
        items: list[TransactWriteItemTypeDef] = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": to_item(
                        {
                            "PK": dedupe_pk(event.carrier, event.event_id),
                            "SK": DEDUPE_SK,
                            "type": "CARRIER_EVENT_SEEN",
                            "order_id": order_id,
                            "ttl": int(expires_at.timestamp()),
                        }
                    ),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            },
            {
                "Put": {
                    "TableName": self._table,
                    "Item": to_item(
                        {
                            "PK": order_pk(order_id),
                            "SK": event_sk(event),
                            "type": "TRACKING_EVENT",
                            "order_id": order_id,
                            **event.model_dump(mode="json"),
                        }
                    ),
                }
            },
        ]
        if after is not None:
            condition: dict[str, Any] = (
                {"ConditionExpression": "attribute_not_exists(PK)"}
                if before is None
                else {
                    "ConditionExpression": "#version = :version",
                    "ExpressionAttributeNames": {"#version": "version"},
                    "ExpressionAttributeValues": {":version": {"N": str(before.version)}},
                }
            )
            state = to_item(
                {"PK": order_pk(order_id), "SK": STATE_SK, "type": "TRACKING_STATE", **after.model_dump(mode="json")}
            )
            items.append({"Put": {"TableName": self._table, "Item": state, **condition}})  # type: ignore[typeddict-item]
        if new_milestone is not None and after is not None:
            milestone = {
                "PK": order_pk(order_id),
                "SK": milestone_sk(new_milestone),
                "type": "TRACKING",
                "milestone_id": f"{order_id}#{new_milestone}",
                "order_id": order_id,
                "user_id": user_id,
                "milestone": new_milestone,
                "carrier": event.carrier,
                "tracking_number": event.tracking_number,
                "location": event.location,
                "created_at": after.model_dump(mode="json")["status_at"],
            }
            items.append(
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": to_item(milestone),
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                }
            )
        try:
            self.client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            codes = cancellation_codes(exc)
            if exc.response["Error"]["Code"] != "TransactionCanceledException" or "ConditionalCheckFailed" not in codes:
                raise
            if codes[0] == "ConditionalCheckFailed":
                raise CarrierEventReplayed(event_id=event.event_id) from exc
            raise ConcurrentModification() from exc

    def open_ticket_once(self, ticket: Ticket) -> bool:
        """Create the ticket unless one with its (deterministic) id exists; whether it was created."""
        try:
            self.client.put_item(
                TableName=self._table, Item=ticket_record(ticket), ConditionExpression="attribute_not_exists(PK)"
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True
