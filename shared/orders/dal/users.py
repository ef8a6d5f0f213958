"""A user's contact settings in OrdersTable: preferences and push devices under USER#<uid>."""

from __future__ import annotations

from typing import Any

from orders.dal import keys
from orders.dal.dynamo import Repository, from_item, to_item
from orders.models.common import format_ts
from orders.models.notification import Device, Preferences


class UsersRepository(Repository):
    def contact(self, user_id: str) -> tuple[Preferences | None, list[Device]]:
        """Preferences and devices of a user, in one Query of their partition."""
        preferences, devices, _ = self.contact_details(user_id)
        return preferences, devices

    def contact_details(self, user_id: str) -> tuple[Preferences | None, list[Device], frozenset[str]]:
        """Preferences, devices and the e-mail addresses SES reported as bouncing, in one Query."""
        preferences: Preferences | None = None
        devices: list[Device] = []
        suppressed: set[str] = set()
        paginator = self.client.get_paginator("query")
        for page in paginator.paginate(
            TableName=self._table,
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": {"S": keys.user_pk(user_id)}},
        ):
            for item in page.get("Items", []):
                data = from_item(item)
                if data["SK"] == keys.PREFERENCES_SK:
                    preferences = Preferences.model_validate(data)
                elif data["SK"].startswith(keys.DEVICE_PREFIX):
                    devices.append(Device.model_validate(data))
                elif data["SK"].startswith(keys.EMAIL_SUPPRESSED_PREFIX):
                    suppressed.add(data["SK"].removeprefix(keys.EMAIL_SUPPRESSED_PREFIX))
        return preferences, devices, frozenset(suppressed)

    def suppress_email(self, user_id: str, address: str, reason: str, at: Any) -> None:
        """Stop e-mailing this address for this user (SES: a permanent bounce or a complaint)."""
        self.client.put_item(
            TableName=self._table,
            Item=to_item(
                {
                    "PK": keys.user_pk(user_id),
                    "SK": keys.email_suppressed_sk(address),
                    "type": "EMAIL_SUPPRESSED",
                    "user_id": user_id,
                    "address": address,
                    "reason": reason[:500],
                    "at": format_ts(at),
                }
            ),
        )

    def put_preferences(self, preferences: Preferences) -> None:
        self.client.put_item(
            TableName=self._table,
            Item=to_item(
                {
                    "PK": keys.user_pk(preferences.user_id),
                    "SK": keys.PREFERENCES_SK,
                    "type": "PREFERENCES",
                    **preferences.model_dump(mode="json"),
                }
            ),
        )

    def put_device(self, device: Device) -> None:
        self.client.put_item(
            TableName=self._table,
            Item=to_item(
                {
                    "PK": keys.user_pk(device.user_id),
                    "SK": keys.device_sk(device.device_id),
                    "type": "DEVICE",
                    **device.model_dump(mode="json"),
                }
            ),
        )

    def disable_device(self, user_id: str, device_id: str, reason: str, at: Any) -> None:
        """Stop pushing to a device whose token the platform refused (only if it is still registered)."""
        from botocore.exceptions import ClientError

        try:
            self.client.update_item(
                TableName=self._table,
                Key={"PK": {"S": keys.user_pk(user_id)}, "SK": {"S": keys.device_sk(device_id)}},
                UpdateExpression="SET enabled = :false, disabled_reason = :reason, disabled_at = :at",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeValues={
                    ":false": {"BOOL": False},
                    ":reason": {"S": reason[:500]},
                    ":at": {"S": format_ts(at)},
                },
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
