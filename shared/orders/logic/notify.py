"""notify: from one stream record to the user's notifications and the downstream event.

Every delivery (one channel of one change, or the bus event of one change) is claimed in the
outbox before it is sent (see ``orders.dal.outbox`` for the protocol and its crash window), so a
redelivered record (retry, bisect) sends nothing twice. A permanent refusal (bad device token,
rejected address) is recorded and the device disabled; a transient error releases the claim and
fails the record, which the batch processor reports as a batch item failure.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from orders.dal import keys
from orders.dal.dynamo import from_item
from orders.dal.outbox import OutboxRepository
from orders.dal.users import UsersRepository
from orders.logic import changes, templates
from orders.logic.ports import EmailDirectory, EventPublisher, Notifier, PermanentDeliveryError
from orders.models.common import format_ts, utcnow
from orders.models.notification import Change, Channel, Delivery, Device, Message, Preferences
from orders.observability import logger


@dataclass
class Ports:
    """What notify sends through; the notify function wires it (functions/notify/app.py)."""

    outbox: OutboxRepository
    users: UsersRepository
    notifiers: Mapping[Channel, Notifier]
    bus: EventPublisher
    directory: EmailDirectory | None = None


@dataclass
class Outcome:
    change: Change | None = None
    sent: list[Delivery] = field(default_factory=list)
    duplicates: int = 0
    failed: list[str] = field(default_factory=list)
    event_published: bool = False


class DeliveryIncomplete(Exception):
    """Some deliveries of a change hit a transient error: the record must be retried."""


# --- pure decisions ----------------------------------------------------------------------------
def plan_deliveries(
    preferences: Preferences | None,
    devices: list[Device],
    message: Message,
    fallback_email: Callable[[], str | None],
    suppressed_emails: Collection[str] = (),
) -> list[Delivery]:
    """Which channels and addresses a message goes to.

    Without preferences: push to every enabled device, or else e-mail to the verified address we
    know. With preferences: exactly the chosen channels (an empty list opts out); a channel whose
    address is missing is skipped, and so is an address SES reported as bouncing or complaining.
    """
    plan = _plan(preferences, devices, message, fallback_email)
    return [d for d in plan if not (d.channel is Channel.EMAIL and d.to.strip().lower() in suppressed_emails)]


def _plan(
    preferences: Preferences | None,
    devices: list[Device],
    message: Message,
    fallback_email: Callable[[], str | None],
) -> list[Delivery]:
    live = [d for d in devices if d.enabled]
    push = [
        Delivery(channel=Channel.PUSH, to=d.endpoint_arn, ref=d.device_id, device_id=d.device_id, message=message)
        for d in live
    ]
    if preferences is None:
        if push:
            return push
        email = fallback_email()
        return [Delivery(channel=Channel.EMAIL, to=email, ref="email", message=message)] if email else []
    deliveries: list[Delivery] = []
    for channel in dict.fromkeys(preferences.channels):
        if channel is Channel.PUSH:
            deliveries.extend(push)
        elif channel is Channel.EMAIL:
            email = preferences.email or fallback_email()
            if email:
                deliveries.append(Delivery(channel=channel, to=email, ref="email", message=message))
        elif channel is Channel.SMS and preferences.phone:
            deliveries.append(Delivery(channel=channel, to=preferences.phone, ref="sms", message=message))
    return deliveries


# --- orchestration -------------------------------------------------------------------------------
def handle_images(old: dict[str, Any] | None, new: dict[str, Any] | None, ports: Ports) -> Outcome:
    """Everything that follows from one stream record. Raises for a record to retry or give up on."""
    change = changes.detect(old, new)
    if change is None:
        return Outcome()
    logger.append_keys(order_id=change.order_id, change=change.key)
    outcome = Outcome(change=change)
    transient: list[str] = []
    if change.notify_user and templates.has_template(change.event):
        transient += _notify_user(change, ports, outcome)
    transient += _publish(change, ports, outcome)
    if transient:
        raise DeliveryIncomplete("; ".join(transient))
    return outcome


def _notify_user(change: Change, ports: Ports, outcome: Outcome) -> list[str]:
    if change.kind == "order":
        order: dict[str, Any] | None = change.new
    else:
        order = ports.outbox.order_item(change.order_id) if change.order_id else None
    user_id = change.user_id or (order or {}).get("user_id")
    if not user_id:
        logger.warning("change without a user: no notification", extra={"event": change.event})
        return []
    preferences, devices, suppressed = ports.users.contact_details(user_id)
    locale = templates.normalize_locale(preferences.locale if preferences else None)
    values = templates.context(change.new, None if change.kind == "order" else order, locale)
    message = templates.render(change.event, locale, values)
    directory = ports.directory
    deliveries = plan_deliveries(
        preferences, devices, message, lambda: directory.verified_email(user_id) if directory else None, suppressed
    )
    if not deliveries:
        logger.info("user has no reachable channel", extra={"user_id": user_id, "event": change.event})
    errors: list[str] = []
    for delivery in deliveries:
        error = _deliver(change, user_id, locale, delivery, ports, outcome)
        if error:
            errors.append(error)
    return errors


def _deliver(
    change: Change, user_id: str, locale: str, delivery: Delivery, ports: Ports, outcome: Outcome
) -> str | None:
    now = utcnow()
    text = delivery.message.body if delivery.channel is Channel.EMAIL else delivery.message.short
    claim = ports.outbox.claim(
        change.order_id,
        keys.notify_sk(change.key, delivery.channel.value, delivery.device_id),
        "NOTIFICATION",
        {
            "user_id": user_id,
            "event": change.event,
            "channel": delivery.channel.value,
            "to": delivery.to,
            "subject": delivery.message.subject,
            "body": text,
            "locale": locale,
            "change_key": change.key,
            "changed_at": change.at,
        },
        now,
        pk=change.outbox_pk or None,
    )
    if claim is None:
        outcome.duplicates += 1
        return None
    notifier = ports.notifiers.get(delivery.channel)
    try:
        if notifier is None:
            raise PermanentDeliveryError("ChannelNotConfigured", f"no {delivery.channel.value} sender configured")
        message_id = notifier.send(delivery.to, delivery.message, user_id=user_id)
    except PermanentDeliveryError as exc:
        ports.outbox.mark_failed(claim, utcnow(), str(exc))
        outcome.failed.append(f"{delivery.channel.value}:{exc.code}")
        logger.warning("delivery refused", extra={"channel": delivery.channel.value, "error": exc.code})
        if delivery.device_id:
            ports.users.disable_device(user_id, delivery.device_id, str(exc), utcnow())
        return None
    except Exception as exc:
        ports.outbox.release(claim)
        logger.exception("delivery failed; the record will be retried", extra={"channel": delivery.channel.value})
        return f"{delivery.channel.value}: {type(exc).__name__}"
    ports.outbox.mark_sent(claim, utcnow(), message_id)
    outcome.sent.append(delivery)
    return None


def _publish(change: Change, ports: Ports, outcome: Outcome) -> list[str]:
    now = utcnow()
    detail = changes.event_detail(change)
    claim = ports.outbox.claim(
        change.order_id,
        keys.event_sk(change.key),
        "EVENT",
        {
            "event": change.event,
            "source": change.source,
            "detail_type": change.detail_type,
            "detail": json.dumps(detail, ensure_ascii=False, separators=(",", ":")),
            "change_key": change.key,
            "changed_at": change.at,
        },
        now,
        pk=change.outbox_pk or None,
    )
    if claim is None:
        return []
    try:
        event_id = ports.bus.publish(change.source, change.detail_type, detail, now)
    except Exception as exc:
        ports.outbox.release(claim)
        logger.exception("event not published; the record will be retried")
        return [f"eventbridge: {type(exc).__name__}"]
    ports.outbox.mark_sent(claim, utcnow(), event_id)
    outcome.event_published = True
    return []


def latency_ms(change: Change, sent_at: str | None = None) -> float | None:
    """Milliseconds from the status write (the item's updated_at) to ``sent_at`` (default: now)."""
    from datetime import datetime

    try:
        written = datetime.fromisoformat(change.at.replace("Z", "+00:00"))
        sent = datetime.fromisoformat((sent_at or format_ts(utcnow())).replace("Z", "+00:00"))
    except ValueError:
        return None
    return (sent - written).total_seconds() * 1000


# --- entry -----------------------------------------------------------------------------------------
def handle_stream_record(record: Mapping[str, Any], ports: Ports) -> Outcome:
    """One DynamoDB stream record as Lambda delivers it (images in DynamoDB JSON)."""
    images = record.get("dynamodb") or {}
    old = images.get("OldImage")
    new = images.get("NewImage")
    return handle_images(from_item(old) if old else None, from_item(new) if new else None, ports)
