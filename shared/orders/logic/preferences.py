"""A user's notification settings: channels, locale, addresses, and push devices."""

from __future__ import annotations

import hashlib

from orders import errors
from orders.config import get_config
from orders.dal.repos import users_repository
from orders.logic.ports import DeviceRegistry, PermanentDeliveryError
from orders.models.common import utcnow
from orders.models.notification import Channel, Device, Platform, Preferences
from orders.models.notification_api import DeviceRequest, PreferencesRequest

# What a user who never chose gets (see logic.notify.plan_deliveries for the actual fallback).
DEFAULT_CHANNELS = (Channel.PUSH, Channel.EMAIL)


def get_preferences(user_id: str) -> Preferences:
    preferences, _ = users_repository().contact(user_id)
    if preferences is not None:
        return preferences
    return Preferences(user_id=user_id, channels=list(DEFAULT_CHANNELS), locale="en", updated_at=utcnow())


def put_preferences(user_id: str, request: PreferencesRequest) -> Preferences:
    if Channel.EMAIL in request.channels and not request.email:
        raise errors.ChannelAddressMissing("The email channel needs an email address.", field="email")
    if Channel.SMS in request.channels and not request.phone:
        raise errors.ChannelAddressMissing("The sms channel needs a phone number (E.164).", field="phone")
    preferences = Preferences(
        user_id=user_id,
        channels=list(dict.fromkeys(request.channels)),
        locale=request.locale,
        email=request.email,
        phone=request.phone,
        updated_at=utcnow(),
    )
    users_repository().put_preferences(preferences)
    return preferences


def device_id_of(platform: Platform, token: str) -> str:
    """A stable id for a device token: the same phone registering again gets the same id."""
    return hashlib.sha256(f"{platform.value}:{token}".encode()).hexdigest()[:24]


def register_device(user_id: str, request: DeviceRequest, *, registry: DeviceRegistry) -> Device:
    config = get_config()
    application = {
        Platform.IOS: config.apns_platform_application_arn,
        Platform.ANDROID: config.fcm_platform_application_arn,
    }[request.platform]
    if not application:
        raise errors.PushUnavailable(platform=request.platform.value)
    try:
        endpoint = registry.register(application, request.token, user_id)
    except PermanentDeliveryError as exc:
        raise errors.InvalidDeviceToken(platform=request.platform.value) from exc
    device = Device(
        user_id=user_id,
        device_id=device_id_of(request.platform, request.token),
        platform=request.platform,
        endpoint_arn=endpoint,
        enabled=True,
        created_at=utcnow(),
    )
    users_repository().put_device(device)
    return device
