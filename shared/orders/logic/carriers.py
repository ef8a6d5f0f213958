"""Carrier tracking callbacks: signature check, payload shape, and the no-going-back status rule.

Pure functions (no AWS): the webhook handler reads the per-carrier secret and the raw body, calls
:func:`verify` then :func:`parse_event`, and records the event; :func:`moves_forward` decides whether
the event may change the order's tracking status (an older event arriving after a newer one is kept
in the history but never moves the status backwards).

Signature (docs/fulfilment.md): header ``X-Carrier-Signature: t=<unix seconds>,v1=<hex>`` where
``v1 = HMAC-SHA256(secret, "<t>." + raw body)``; several ``v1`` entries are accepted while a secret is
being rolled. A timestamp further than ``tolerance`` from now (either way) is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import Field, ValidationError

from orders import errors
from orders.models.base import Model
from orders.models.common import UtcDateTime

SIGNATURE_HEADER = "X-Carrier-Signature"
DEFAULT_TOLERANCE = timedelta(minutes=5)


class TrackingStatus(StrEnum):
    PICKED_UP = "picked_up"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    EXCEPTION = "exception"


# How far along the parcel is. EXCEPTION ranks with IN_TRANSIT: a parcel can leave an exception for
# any later milestone, and an exception reported after delivery does not undo the delivery. A newer
# exception is always taken (moves_forward): the usual one is a failed delivery attempt, reported after
# out_for_delivery.
_RANK = {
    TrackingStatus.PICKED_UP: 1,
    TrackingStatus.IN_TRANSIT: 2,
    TrackingStatus.EXCEPTION: 2,
    TrackingStatus.OUT_FOR_DELIVERY: 3,
    TrackingStatus.DELIVERED: 4,
}


class CarrierEvent(Model):
    """One callback body, as the carrier sends it."""

    event_id: Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")]
    # The shipper's reference given to the carrier when the label was booked: our order id.
    reference: Annotated[str, Field(min_length=1, max_length=64)]
    tracking_number: Annotated[str, Field(min_length=1, max_length=64)]
    status: TrackingStatus
    occurred_at: UtcDateTime
    location: Annotated[str | None, Field(max_length=200)] = None
    description: Annotated[str | None, Field(max_length=500)] = None


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The header value a carrier sends (the fake carrier and the tests use this)."""
    return f"t={timestamp},v1={_digest(secret, timestamp, body)}"


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def parse_header(header: str | None) -> tuple[int, list[str]]:
    """``(timestamp, [v1 signatures])``; a missing or malformed header is 400 WEBHOOK_SIGNATURE_MISSING."""
    if not header:
        raise errors.WebhookSignatureMissing()
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, _, val = part.strip().partition("=")
        if key == "t" and val.isdigit() and len(val) <= 12:
            timestamp = int(val)
        elif key == "v1" and val:
            signatures.append(val)
    if timestamp is None or not signatures:
        raise errors.WebhookSignatureMissing()
    return timestamp, signatures


def verify(
    secret: str, header: str | None, body: bytes, now: datetime, tolerance: timedelta = DEFAULT_TOLERANCE
) -> int:
    """The signed timestamp when ``header`` signs ``body`` with ``secret`` within ``tolerance`` of ``now``.

    Forged → 401 WEBHOOK_SIGNATURE_INVALID; outside the window → 401 WEBHOOK_TIMESTAMP_STALE (checked
    after the signature, so an unsigned request learns nothing about the clock).
    """
    timestamp, signatures = parse_header(header)
    expected = _digest(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise errors.WebhookSignatureInvalid()
    if abs(now.timestamp() - timestamp) > tolerance.total_seconds():
        raise errors.WebhookTimestampStale()
    return timestamp


def carrier_secret(secrets_json: str | None, carrier: str) -> str:
    """The signing secret of ``carrier`` from the JSON map ``{carrier: secret}`` held in the secret store.

    An unset store is 503 WEBHOOK_NOT_CONFIGURED (the carrier retries); a carrier not in the map is
    404 UNKNOWN_CARRIER.
    """
    if secrets_json is None:
        raise errors.WebhookNotConfigured(provider="carriers")
    try:
        table = json.loads(secrets_json)
    except ValueError as exc:
        raise errors.WebhookNotConfigured(provider="carriers") from exc
    secret = table.get(carrier) if isinstance(table, dict) else None
    if not isinstance(secret, str) or not secret:
        raise errors.UnknownCarrier(carrier=carrier)
    return secret


def parse_event(body: bytes) -> CarrierEvent:
    """An authentic body that is not a carrier event is 400 INVALID_WEBHOOK_PAYLOAD."""
    try:
        return CarrierEvent.model_validate_json(body)
    except ValidationError as exc:
        raise errors.InvalidWebhookPayload(errors=exc.errors(include_url=False, include_input=False)) from exc


def moves_forward(current: TrackingStatus | None, current_at: datetime | None, event: CarrierEvent) -> bool:
    """Whether ``event`` becomes the parcel's status: never backwards, in rank or in time (delivered ends it).

    The one step down in rank is a newer exception: a problem can arise at any point before delivery.
    """
    if current is None or current_at is None:
        return True
    if current is TrackingStatus.DELIVERED:
        return False
    if event.status is TrackingStatus.DELIVERED:
        return True  # a delivery reported late still ends the journey
    if event.occurred_at < current_at:
        return False
    return event.status is TrackingStatus.EXCEPTION or _RANK[event.status] >= _RANK[current]
