"""After payment: entitlements (what a user may use), feedback on an order, support tickets."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import ConfigDict, Field

from orders.models.base import Model
from orders.models.catalog import ProductKind, Sku
from orders.models.common import UtcDateTime


class Entitlement(Model):
    """What one order line granted a user. One record per (order, sku): granted once, revoked by refund."""

    model_config = ConfigDict(frozen=True)

    user_id: str
    order_id: str
    sku: Sku
    name: str
    kind: ProductKind
    quantity: Annotated[int, Field(ge=1)]
    granted_at: UtcDateTime
    # Subscriptions only: the period this grant covers (stacked after any still running).
    starts_at: UtcDateTime | None = None
    expires_at: UtcDateTime | None = None
    revoked_quantity: Annotated[int, Field(ge=0)] = 0
    revoked_at: UtcDateTime | None = None

    @property
    def remaining(self) -> int:
        return self.quantity - self.revoked_quantity

    def active_at(self, now: datetime) -> bool:
        return self.remaining > 0 and (self.expires_at is None or self.expires_at > now)


class Feedback(Model):
    model_config = ConfigDict(frozen=True)

    order_id: str
    user_id: str
    rating: Annotated[int, Field(ge=1, le=5)]
    comment: str = ""
    created_at: UtcDateTime


class TicketStatus(StrEnum):
    OPEN = "OPEN"  # waiting for support (has a response deadline)
    ANSWERED = "ANSWERED"  # support replied; waiting for the owner
    RESOLVED = "RESOLVED"


class TicketMessage(Model):
    model_config = ConfigDict(frozen=True)

    at: UtcDateTime
    author: str  # "owner" or "support"
    author_id: str
    message: str


class Ticket(Model):
    model_config = ConfigDict(frozen=True)

    ticket_id: str
    order_id: str
    user_id: str
    category: str
    status: TicketStatus
    messages: list[TicketMessage]
    created_at: UtcDateTime
    updated_at: UtcDateTime
    # While OPEN: support must answer before this; a scheduled check marks a miss once.
    due_at: UtcDateTime | None = None
    breached_at: UtcDateTime | None = None
    first_response_at: UtcDateTime | None = None
    resolved_at: UtcDateTime | None = None
    version: Annotated[int, Field(ge=1)] = 1
