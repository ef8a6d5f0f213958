"""Carrier tracking of a shipped order: the events a carrier reported and where the parcel is now."""

from __future__ import annotations

from pydantic import ConfigDict

from orders.models.base import Model
from orders.models.common import UtcDateTime


class TrackingEvent(Model):
    """One carrier callback as stored under its order (``TRACKEVENT#<occurred_at>#<event id>``)."""

    model_config = ConfigDict(frozen=True)

    event_id: str
    carrier: str
    tracking_number: str
    status: str  # orders.logic.carriers.TrackingStatus
    occurred_at: UtcDateTime  # the carrier's time
    received_at: UtcDateTime  # ours
    location: str | None = None
    description: str | None = None


class TrackingState(Model):
    """Where the parcel is (``TRACKING``): the furthest milestone so far, never moved backwards."""

    model_config = ConfigDict(frozen=True)

    order_id: str
    carrier: str
    tracking_number: str
    status: str
    status_at: UtcDateTime
    reached: list[str]  # every milestone reached so far: each is announced once
    version: int = 1


class CarrierAck(Model):
    """The answer to a carrier callback: 200 for a new event and for a replayed one (``duplicate``)."""

    received: bool = True
    duplicate: bool
    status: str | None  # the parcel's milestone after this event
    moved: bool  # whether this event became the milestone (an older one arriving late does not)


class TrackingEventOut(Model):
    event_id: str
    status: str
    occurred_at: UtcDateTime
    location: str | None = None
    description: str | None = None

    @classmethod
    def of(cls, event: TrackingEvent) -> TrackingEventOut:
        return cls(
            event_id=event.event_id,
            status=event.status,
            occurred_at=event.occurred_at,
            location=event.location,
            description=event.description,
        )


class TrackingOut(Model):
    order_id: str
    carrier: str | None
    tracking_number: str | None
    status: str | None  # the current milestone (None until the carrier's first callback)
    events: list[TrackingEventOut]  # oldest first, by the carrier's time
