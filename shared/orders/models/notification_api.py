"""Request and response bodies of the notification settings routes (/me/preferences, /me/devices)."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field

from orders.models.base import Model
from orders.models.common import UtcDateTime
from orders.models.notification import Channel, Device, Email, Locale, Phone, Platform, Preferences


class PreferencesRequest(Model):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [{"channels": ["push", "email"], "locale": "zh-CN", "email": "ada@example.com"}]
        },
    )

    channels: Annotated[
        list[Channel], Field(max_length=3, description="Empty list: no user notifications (events still flow).")
    ]
    locale: Locale = "en"
    email: Email | None = None
    phone: Phone | None = None


class PreferencesOut(Model):
    channels: list[Channel]
    locale: str
    email: str | None
    phone: str | None
    updated_at: UtcDateTime | None

    @classmethod
    def of(cls, preferences: Preferences) -> PreferencesOut:
        return cls.model_validate(preferences.model_dump(exclude={"user_id"}))


class DeviceRequest(Model):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {"platform": "ios", "token": "740f4707bebcf74f9b7c25d48e3358945f6aa01da5ddb387462c7eaf61bb78ad"}
            ]
        },
    )

    platform: Platform
    token: Annotated[str, Field(min_length=8, max_length=4096, pattern=r"^[A-Za-z0-9_:.\-]+$")]


class DeviceOut(Model):
    device_id: str
    platform: Platform
    enabled: bool
    created_at: UtcDateTime

    @classmethod
    def of(cls, device: Device) -> DeviceOut:
        return cls.model_validate(device.model_dump())
