"""Notification domain: user preferences, devices, and what one state change means downstream."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import ConfigDict, Field

from orders.models.base import Model
from orders.models.common import UtcDateTime

Email = Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", examples=["ada@example.com"])]
Phone = Annotated[str, Field(pattern=r"^\+[1-9][0-9]{6,14}$", description="E.164", examples=["+447700900123"])]
Locale = Annotated[
    str, Field(pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8}){0,3}$", examples=["en", "zh-CN"], max_length=35)
]


class Channel(StrEnum):
    PUSH = "push"
    EMAIL = "email"
    SMS = "sms"


class Platform(StrEnum):
    IOS = "ios"  # APNs
    ANDROID = "android"  # Firebase Cloud Messaging


class Preferences(Model):
    """How a user wants to hear from us. An empty ``channels`` list means: no user notifications."""

    model_config = ConfigDict(frozen=True)

    user_id: str
    channels: list[Channel]
    locale: Locale = "en"
    email: Email | None = None
    phone: Phone | None = None
    updated_at: UtcDateTime


class Device(Model):
    """A phone registered for push: one SNS platform endpoint."""

    model_config = ConfigDict(frozen=True)

    user_id: str
    device_id: str
    platform: Platform
    endpoint_arn: str
    enabled: bool = True
    created_at: UtcDateTime
    disabled_reason: str | None = None


class Change(Model):
    """One state change read from the table's stream, as the rules classified it."""

    model_config = ConfigDict(frozen=True)

    kind: str  # order | payment | refund | ticket | listing
    event: str  # e.g. order.shipped, refund.approved: the template and the downstream name
    detail_type: str  # EventBridge detail-type, e.g. "Order Status Changed"
    entity_id: str
    order_id: str | None  # None for items outside any order (a merchant's listing)
    user_id: str | None
    old_status: str | None
    new_status: str
    version: int | None
    at: str
    notify_user: bool
    new: dict[str, Any]
    old: dict[str, Any] | None = None
    # The table partition its NOTIFICATION and EVENT records go under (the order's, or the merchant's).
    outbox_pk: str = ""

    @property
    def key(self) -> str:
        """What makes this change unique: a redelivered stream record yields the same key."""
        step = f"v{self.version}" if self.version is not None else self.new_status
        return f"{self.kind}#{self.entity_id}#{step}"

    @property
    def source(self) -> str:
        return f"orders.{self.kind}"


class Message(Model):
    """A rendered notification, ready for one channel."""

    model_config = ConfigDict(frozen=True)

    subject: str
    body: str  # email body (plain text)
    short: str  # SMS and push text


class Delivery(Model):
    """One notification to send: a channel, an address, a message. ``ref`` makes it unique per change."""

    model_config = ConfigDict(frozen=True)

    channel: Channel
    to: str
    ref: str  # the channel's part of the dedupe key (device id for push)
    message: Message
    device_id: str | None = None
