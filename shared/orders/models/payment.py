"""Payments: the provider-neutral event every webhook adapter produces, and the ledger entry it leaves."""

from __future__ import annotations

import re
import uuid
from enum import StrEnum
from typing import Annotated, Any

from pydantic import ConfigDict, Field

from orders.models.base import Model
from orders.models.common import CurrencyCode, MinorUnits, UtcDateTime


class Provider(StrEnum):
    STRIPE = "stripe"
    APPLE = "apple"
    GOOGLE = "google"


class PaymentEventKind(StrEnum):
    SUCCEEDED = "SUCCEEDED"  # money taken for the order
    FAILED = "FAILED"  # an attempt to pay failed; the user may pay again
    REFUNDED = "REFUNDED"  # the provider returned money (see ``refunds``)
    RENEWED = "RENEWED"  # a subscription renewal was paid
    OTHER = "OTHER"  # authentic, recorded, no effect on the order
    # Recorded on the order's timeline (``notice`` names the event), no status or money change:
    # a refund still pending, a subscription in its grace period or expired, a family-sharing revoke.
    NOTICE = "NOTICE"
    DISPUTE_OPENED = "DISPUTE_OPENED"  # a chargeback was opened: timeline + ops alert
    REFUND_FAILED = "REFUND_FAILED"  # a provider refund failed or was cancelled: it never counts


class ProviderRefund(Model):
    """One refund at the provider, identified by the provider's own refund id."""

    model_config = ConfigDict(frozen=True)

    refund_id: str
    amount: MinorUnits
    # Our refund id when we asked for the refund ourselves (the refund workflow owns those).
    our_refund_id: str | None = None


class PaymentEvent(Model):
    """What a verified provider notification means, independent of the provider."""

    model_config = ConfigDict(frozen=True)

    provider: Provider
    event_id: str = Field(min_length=1, max_length=256)  # the provider's id: the dedupe key
    event_type: str  # the provider's own type, for finance and support
    kind: PaymentEventKind
    order_id: str | None = None  # None: the notification names no order we can recognise
    amount: MinorUnits | None = None
    currency: CurrencyCode | None = None
    payment_reference: str | None = None  # PaymentIntent id, Apple transaction id, Google purchase token
    provider_references: dict[str, str] = Field(default_factory=dict)
    refunds: list[ProviderRefund] = Field(default_factory=list)
    subscription_expires_at: UtcDateTime | None = None
    occurred_at: UtcDateTime | None = None
    livemode: bool | None = None
    notice: str | None = None  # the timeline event type of a NOTICE / DISPUTE_OPENED / REFUND_FAILED


class PaymentOutcome(StrEnum):
    """What one provider event did, as recorded in the ledger."""

    PAID = "PAID"  # order moved to PAID
    PAYMENT_FAILED = "PAYMENT_FAILED"  # order moved to PAYMENT_FAILED
    FAILURE_RECORDED = "FAILURE_RECORDED"  # a failure that changes nothing (already failed, or stale)
    ALREADY_PAID = "ALREADY_PAID"  # a success for an order that is already paid (a second charge?)
    STALE = "STALE"  # arrived after a later state; changes nothing
    AMOUNT_MISMATCH = "AMOUNT_MISMATCH"  # amount or currency differs from the order: not marked PAID
    PAID_WHILE_CANCELLED = "PAID_WHILE_CANCELLED"  # money taken for a cancelled order
    REFUND_RECORDED = "REFUND_RECORDED"  # refunded_total raised (partial refund)
    REFUNDED = "REFUNDED"  # refunded_total reached the total: order REFUNDED
    REFUND_ALREADY_RECORDED = "REFUND_ALREADY_RECORDED"  # every refund in it was already counted
    OWN_REFUND = "OWN_REFUND"  # a refund we asked for: the refund workflow accounts for it
    REFUND_ANOMALY = "REFUND_ANOMALY"  # a refund for an order in a state that cannot be refunded
    NEEDS_RECONCILIATION = "NEEDS_RECONCILIATION"  # authentic but not attributable (no refund ids, ...)
    RENEWED = "RENEWED"  # subscription extended
    UNKNOWN_ORDER = "UNKNOWN_ORDER"  # names no order we know: kept for reconciliation
    IGNORED = "IGNORED"  # a notification type with no effect
    NOTED = "NOTED"  # recorded on the order's timeline; no status or money change
    DISPUTE_OPENED = "DISPUTE_OPENED"  # a chargeback: on the timeline, ops alerted (see docs/payments.md)


ANOMALIES = frozenset(
    {
        PaymentOutcome.AMOUNT_MISMATCH,
        PaymentOutcome.PAID_WHILE_CANCELLED,
        PaymentOutcome.ALREADY_PAID,
        PaymentOutcome.REFUND_ANOMALY,
        PaymentOutcome.NEEDS_RECONCILIATION,
        PaymentOutcome.UNKNOWN_ORDER,
        PaymentOutcome.DISPUTE_OPENED,
    }
)


class LedgerEntry(Model):
    """One provider event as finance sees it: stored once per (provider, event id)."""

    model_config = ConfigDict(frozen=True)

    provider: Provider
    event_id: str
    event_type: str
    kind: PaymentEventKind
    # Optional fields default to None: the item leaves out None attributes (dal.dynamo.to_item), and
    # the reader must accept every entry the webhook path can write (tests/integration/test_ledger_readback.py).
    order_id: str | None = None
    amount: MinorUnits | None = None
    currency: CurrencyCode | None = None
    payment_reference: str | None = None
    provider_references: dict[str, str] = Field(default_factory=dict)
    refunds: list[ProviderRefund] = Field(default_factory=list)
    received_at: UtcDateTime
    outcome: PaymentOutcome
    details: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def of(cls, event: PaymentEvent, *, received_at: Any, outcome: PaymentOutcome, **details: Any) -> LedgerEntry:
        return cls(
            provider=event.provider,
            event_id=event.event_id,
            event_type=event.event_type,
            kind=event.kind,
            order_id=event.order_id,
            amount=event.amount,
            currency=event.currency,
            payment_reference=event.payment_reference,
            provider_references=event.provider_references,
            refunds=event.refunds,
            received_at=received_at,
            outcome=outcome,
            details=details,
        )


class PaymentInstructions(Model):
    """What a client needs to pay an order (answer of POST /orders/{id}/payments)."""

    model_config = ConfigDict(frozen=True)

    order_id: str
    provider: Provider
    amount: MinorUnits
    currency: CurrencyCode
    payment_reference: str | None = None  # Stripe PaymentIntent id
    client_secret: Annotated[str | None, Field(description="Stripe PaymentIntent client secret")] = None
    status: str | None = None
    # In-app purchases: the value to pass as Apple's appAccountToken / Google's obfuscatedAccountId.
    account_token: str | None = None


# --- how an order id travels through the app stores ---------------------------------------------
# Apple's ``appAccountToken`` must be a UUID; our order ids are ``ord_<32 hex>``, i.e. a UUID in hex,
# so the token is that UUID and the mapping is exact both ways. Google's ``obfuscatedExternalAccountId``
# carries the same token (PaymentInstructions.account_token).
_ORDER_ID = re.compile(r"^ord_([0-9a-f]{32})$")


def account_token(order_id: str) -> str | None:
    match = _ORDER_ID.match(order_id)
    return str(uuid.UUID(hex=match.group(1))) if match else None


def order_id_from_token(token: str | None) -> str | None:
    if not token:
        return None
    if _ORDER_ID.match(token):
        return token
    try:
        return f"ord_{uuid.UUID(token).hex}"
    except ValueError:
        return None
