"""Payments: applying verified provider events to orders, the ledger, and payment initiation.

One provider event has exactly one effect. Its ledger entry is keyed by (provider, event id)
and written with ``attribute_not_exists`` in the same transaction as the order change it
causes, which is itself conditional on the order's status and version (see dal.payments):

* a duplicate read after the first one landed finds the entry → no effect;
* concurrent duplicates race on the entry's condition → one transaction wins, the rest are
  cancelled and answer as duplicates;
* a late or replayed event is decided against the order as it is now: the lifecycle table never
  moves an order backwards, so it is recorded with its outcome and changes nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from orders import errors, lifecycle
from orders.dal.dynamo import cancellation_codes
from orders.dal.payments import PaymentSnapshot
from orders.dal.repos import orders_repository, payments_repository, refunds_repository
from orders.logic import transitions
from orders.logic.ports import PaymentGateway, PaymentWebhooks
from orders.logic.stages import record_order_stage
from orders.models.common import utcnow
from orders.models.order import Order, OrderStatus, TimelineEvent
from orders.models.payment import (
    ANOMALIES,
    LedgerEntry,
    PaymentEvent,
    PaymentEventKind,
    PaymentInstructions,
    PaymentOutcome,
    Provider,
    ProviderRefund,
    account_token,
)
from orders.models.refund import SYSTEM_AUTO, Refund, RefundStatus
from orders.observability import logger, metrics
from orders.roles import may_read

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

_ATTEMPTS = 4
_PAYABLE = (OrderStatus.PENDING_PAYMENT, OrderStatus.PAYMENT_FAILED)
_PAID_STATES = (
    OrderStatus.PAID,
    OrderStatus.PENDING_SHIPMENT,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
    OrderStatus.COMPLETED,
)


@dataclass(frozen=True)
class Decision:
    """What an event does to an order: an outcome, and the change to save (if any)."""

    outcome: PaymentOutcome
    change: tuple[Order, TimelineEvent] | None = None
    applied_refunds: list[ProviderRefund] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    # Money that arrived for a cancelled order: the refund that gives it back (saved with the change).
    auto_refund: Refund | None = None


@dataclass(frozen=True)
class WebhookResult:
    entry: LedgerEntry
    duplicate: bool


# --- receiving ---------------------------------------------------------------------------------
SIGNATURE_FAILURES = (errors.WebhookSignatureMissing, errors.WebhookSignatureInvalid, errors.WebhookTimestampStale)


def parse_signed(
    provider: Provider, headers: dict[str, str], body: bytes, *, webhooks: PaymentWebhooks
) -> PaymentEvent:
    """The provider's event, verified; a refused signature is counted (alarm: a spike means probing)."""
    try:
        return webhooks.parse(provider, headers, body)
    except SIGNATURE_FAILURES as exc:
        metrics.add_metric(name="WebhookSignatureFailures", unit="Count", value=1)
        logger.warning("webhook signature refused", provider=provider.value, error_code=exc.code)
        raise
    except RecursionError as exc:
        # A body nested deeper than json can read (e.g. "[" x 5000): some providers' envelopes are
        # parsed before their signature is checked, so this is reachable unauthenticated.
        raise errors.InvalidJson() from exc
    except ValidationError as exc:
        # Authentic, but a value no PaymentEvent can hold (an amount over the money limit, a currency
        # that is not ISO 4217, an id over 256 characters): refused with a stable code, never a 502.
        fields = sorted({".".join(str(part) for part in err["loc"]) for err in exc.errors()})
        logger.warning("webhook payload out of range", provider=provider.value, fields=fields)
        raise errors.InvalidWebhookPayload(provider=provider.value, fields=fields) from exc


# --- deciding (pure) ---------------------------------------------------------------------------
_NOTED = (PaymentEventKind.NOTICE, PaymentEventKind.DISPUTE_OPENED, PaymentEventKind.REFUND_FAILED)


def decide(order: Order, event: PaymentEvent, recorded_refunds: frozenset[str] = frozenset()) -> Decision:
    """The effect of ``event`` on ``order`` as it is now. No I/O."""
    actor = f"provider:{event.provider.value}"
    details: dict[str, Any] = {
        "provider": event.provider.value,
        "event_id": event.event_id,
        "amount": event.amount,
        "currency": event.currency,
        "payment_reference": event.payment_reference,
    }
    if event.kind is PaymentEventKind.SUCCEEDED:
        return _decide_success(order, event, actor, details)
    if event.kind is PaymentEventKind.FAILED:
        if order.status is OrderStatus.PENDING_PAYMENT:
            change = transitions.plan(order, lifecycle.Action.PAYMENT_FAILED, actor=actor, details=details)
            return Decision(PaymentOutcome.PAYMENT_FAILED, change)
        if order.status is OrderStatus.PAYMENT_FAILED:
            return Decision(PaymentOutcome.FAILURE_RECORDED)
        return Decision(PaymentOutcome.STALE, details={"order_status": order.status.value})
    recorded = recorded_refunds
    if event.kind is PaymentEventKind.REFUNDED:
        return _decide_refund(order, event, recorded, actor, details)
    if event.kind is PaymentEventKind.RENEWED:
        return _decide_renewal(order, event, actor, details)
    if event.kind is PaymentEventKind.REFUND_FAILED and recorded.intersection(r.refund_id for r in event.refunds):
        # A refund we counted was reversed at the provider: the money did not go back. Finance decides.
        return Decision(PaymentOutcome.NEEDS_RECONCILIATION, details={"reason": "counted refund failed at provider"})
    if event.kind in _NOTED:
        disputed = event.kind is PaymentEventKind.DISPUTE_OPENED
        outcome = PaymentOutcome.DISPUTE_OPENED if disputed else PaymentOutcome.NOTED
        notice = {**details, **event.provider_references}
        event_type = event.notice or event.kind.value
        change = transitions.plan_update(order, event_type=event_type, actor=actor, details=notice)
        return Decision(outcome, change)
    return Decision(PaymentOutcome.IGNORED)


def _decide_success(order: Order, event: PaymentEvent, actor: str, details: dict[str, Any]) -> Decision:
    if order.status is OrderStatus.CANCELLED:
        # Money taken for an order that no longer exists for the user: never resurrect it; give it back.
        return _decide_paid_while_cancelled(order, event, actor, details)
    if event.amount != order.total or event.currency != order.currency:
        return Decision(
            PaymentOutcome.AMOUNT_MISMATCH,
            details={
                "expected_amount": order.total,
                "expected_currency": order.currency,
                "order_status": order.status.value,
            },
        )
    if order.status in _PAYABLE:
        updates: dict[str, Any] = {
            "payment_provider": event.provider.value,
            "payment_reference": event.payment_reference,
            "paid_at": utcnow(),
        }
        if event.subscription_expires_at is not None:
            updates["subscription_expires_at"] = event.subscription_expires_at
        change = transitions.plan(order, lifecycle.Action.PAYMENT_SUCCEEDED, actor=actor, details=details, **updates)
        return Decision(PaymentOutcome.PAID, change)
    if order.payment_reference is not None and order.payment_reference == event.payment_reference:
        return Decision(PaymentOutcome.STALE, details={"order_status": order.status.value})
    # Paid already by another payment (or refunded): a second charge for finance to look at.
    return Decision(
        PaymentOutcome.ALREADY_PAID,
        details={"order_status": order.status.value, "order_payment_reference": order.payment_reference},
    )


def auto_refund_id(order_id: str, payment_reference: str) -> str:
    """The automatic refund of one payment of a cancelled order: one id per payment, whoever reports it."""
    digest = hashlib.sha256(payment_reference.encode()).hexdigest()[:12]
    return f"rf_{order_id.removeprefix('ord_')}_{digest}"


def _decide_paid_while_cancelled(order: Order, event: PaymentEvent, actor: str, details: dict[str, Any]) -> Decision:
    """A payment that went through after its order was cancelled is refunded automatically, in full.

    One transaction records the charge on the order (``stray_charges``, a PAID_WHILE_CANCELLED timeline
    event) and creates the automatic refund (APPROVED by ``system:auto``, no review); the refund workflow
    then refunds it at the provider. A payment already recorded (another event for the same charge)
    changes nothing more. Without a reference or an amount nothing can be refunded: finance reconciles.
    """
    reference, amount = event.payment_reference, event.amount
    if not reference or not amount:
        return Decision(PaymentOutcome.PAID_WHILE_CANCELLED, details={"automatic_refund": None})
    refund_id = auto_refund_id(order.order_id, reference)
    if reference in order.stray_charges:
        return Decision(PaymentOutcome.PAID_WHILE_CANCELLED, details={"refund_id": refund_id, "recorded": True})
    now = utcnow()
    refund = Refund(
        refund_id=refund_id,
        order_id=order.order_id,
        user_id=order.user_id,
        amount=amount,
        currency=event.currency or order.currency,
        status=RefundStatus.APPROVED,
        reason="Payment received after the order was cancelled: refunded automatically.",
        requested_at=now,
        decided_by=SYSTEM_AUTO,
        decided_at=now,
        automatic=True,
        payment_provider=event.provider.value,
        payment_reference=reference,
    )
    change = transitions.plan_update(
        order,
        event_type="PAID_WHILE_CANCELLED",
        actor=actor,
        details={**details, "refund_id": refund_id, "automatic_refund": amount},
        stray_charges={**order.stray_charges, reference: amount},
    )
    return Decision(PaymentOutcome.PAID_WHILE_CANCELLED, change, details={"refund_id": refund_id}, auto_refund=refund)


def _start_auto_refund(refund_id: str, order_id: str) -> None:
    """Start (or find started) the workflow of an automatic refund; its execution is named by the refund id."""
    from orders.dal.repos import refund_workflow

    payload = {"refund_id": refund_id, "order_id": order_id, "auto_approved": True, "review_due_at": None}
    if refund_workflow().start(refund_id, payload):
        logger.info("automatic refund started", refund_id=refund_id)
        metrics.add_metric(name="AutomaticRefunds", unit="Count", value=1)


def _decide_refund(
    order: Order, event: PaymentEvent, recorded: frozenset[str], actor: str, details: dict[str, Any]
) -> Decision:
    if not event.refunds:
        # No refund ids: counting it could count a refund twice. Kept for reconciliation.
        return Decision(PaymentOutcome.NEEDS_RECONCILIATION, details={"reason": "no refund ids in the event"})
    unrecorded = [r for r in event.refunds if r.refund_id not in recorded]
    if not unrecorded:
        return Decision(PaymentOutcome.REFUND_ALREADY_RECORDED)
    new = [r for r in unrecorded if r.our_refund_id is None]
    if not new:
        # Refunds we asked for: the refund workflow counts them (by the same provider refund id).
        return Decision(PaymentOutcome.OWN_REFUND)
    if order.status not in _PAID_STATES or (event.currency is not None and event.currency != order.currency):
        return Decision(
            PaymentOutcome.REFUND_ANOMALY,
            details={"order_status": order.status.value, "order_currency": order.currency},
        )
    amount = sum(r.amount for r in new)
    raised = order.refunded_total + amount
    refund_details = {**details, "refunds": [r.refund_id for r in new], "refunded": amount}
    if raised > order.total:
        refund_details["over_refund"] = raised - order.total
        raised = order.total
    refund_details["refunded_total"] = raised
    if raised >= order.total:
        change = transitions.plan(
            order, lifecycle.Action.REFUND_FULL, actor=actor, details=refund_details, refunded_total=raised
        )
        return Decision(PaymentOutcome.REFUNDED, change, new)
    change = transitions.plan_update(
        order, event_type="PROVIDER_REFUND_RECORDED", actor=actor, details=refund_details, refunded_total=raised
    )
    return Decision(PaymentOutcome.REFUND_RECORDED, change, new)


def _decide_renewal(order: Order, event: PaymentEvent, actor: str, details: dict[str, Any]) -> Decision:
    if order.status not in _PAID_STATES:
        return Decision(PaymentOutcome.NEEDS_RECONCILIATION, details={"order_status": order.status.value})
    expires = event.subscription_expires_at
    current = order.subscription_expires_at
    if expires is None or (current is not None and expires <= current):
        return Decision(PaymentOutcome.STALE, details={"subscription_expires_at": _iso(current)})
    change = transitions.plan_update(
        order,
        event_type="SUBSCRIPTION_RENEWED",
        actor=actor,
        details={**details, "expires_at": _iso(expires)},
        subscription_expires_at=expires,
    )
    return Decision(PaymentOutcome.RENEWED, change)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


# --- applying ----------------------------------------------------------------------------------
_ACKNOWLEDGED_OUTCOMES = (PaymentOutcome.PAID, PaymentOutcome.STALE)


def handle_event(event: PaymentEvent, *, webhooks: PaymentWebhooks) -> WebhookResult:
    """Apply a verified provider event once; a duplicate returns the first delivery's entry.

    A store purchase that paid the order and is not acknowledged yet is acknowledged after it is
    recorded (also on a redelivery, so a failed acknowledgement is retried by the store's retry).
    A purchase that did not pay the order (amount mismatch, cancelled order, second payment) is
    left unacknowledged: Google Play refunds it by itself after three days.
    """
    result = _handle_event(event)
    refs = event.provider_references
    if refs.get("acknowledgement") == "pending" and result.entry.outcome in _ACKNOWLEDGED_OUTCOMES:
        webhooks.acknowledge(event)
        logger.info("store purchase acknowledged", provider=event.provider.value)
    if refs.get("consumption_request") == "pending" and result.entry.outcome is PaymentOutcome.NOTED:
        _answer_consumption_request(event, webhooks)
    return result


_DELIVERED = (OrderStatus.PAID, OrderStatus.DELIVERED, OrderStatus.COMPLETED)


def _answer_consumption_request(event: PaymentEvent, webhooks: PaymentWebhooks) -> None:
    """Apple asks, before deciding a refund the user asked it for, whether we delivered (docs/payments.md)."""
    order = orders_repository().get(event.order_id) if event.order_id else None
    delivered = order is not None and order.status in _DELIVERED
    webhooks.answer_consumption_request(event, delivered=delivered)
    logger.info("consumption request answered", delivered=delivered)


def _handle_event(event: PaymentEvent) -> WebhookResult:
    repo = payments_repository()
    received_at = utcnow()
    logger.append_keys(provider=event.provider.value, provider_event_id=event.event_id, order_id=event.order_id)
    if event.order_id is None and event.payment_reference:
        order_id = repo.order_for_reference(event.provider.value, event.payment_reference)
        if order_id is not None:
            event = event.model_copy(update={"order_id": order_id})
    if event.order_id is None and event.kind is PaymentEventKind.OTHER:
        # Names no order and means nothing (Apple TEST, Google testNotification...): answered, not kept.
        logger.info("provider event with no effect", event_type=event.event_type)
        ignored = LedgerEntry.of(event, received_at=received_at, outcome=PaymentOutcome.IGNORED)
        return WebhookResult(entry=ignored, duplicate=False)
    if event.order_id is None:
        return _record_unmatched(event, received_at, PaymentOutcome.UNKNOWN_ORDER)
    for attempt in range(_ATTEMPTS):
        snapshot = repo.snapshot(
            event.order_id, event.provider.value, event.event_id, [r.refund_id for r in event.refunds]
        )
        if snapshot.ledger is not None:
            _resume_auto_refund(snapshot.ledger)
            return _duplicate(snapshot.ledger)
        if snapshot.order is None:
            return _record_unmatched(event, received_at, PaymentOutcome.UNKNOWN_ORDER)
        decision = decide(snapshot.order, event, snapshot.recorded_refunds)
        entry = LedgerEntry.of(event, received_at=received_at, outcome=decision.outcome, **decision.details)
        try:
            _save(snapshot, event, decision, entry)
        except errors.DuplicateEvent:
            return _duplicate(repo.get_entry(event.order_id, event.provider.value, event.event_id) or entry)
        except errors.ConcurrentModification:
            if attempt == _ATTEMPTS - 1:
                raise
            continue
        _count(entry)
        # An automatic refund was saved with the change (or by an earlier event for the same payment): its
        # workflow starts now; if that fails the webhook answers 5xx and the redelivery starts it.
        _resume_auto_refund(entry)
        return WebhookResult(entry=entry, duplicate=False)
    raise AssertionError("unreachable")


def _resume_auto_refund(entry: LedgerEntry) -> None:
    """A redelivered PAID_WHILE_CANCELLED event makes sure its automatic refund's workflow runs."""
    refund_id = entry.details.get("refund_id")
    if entry.outcome is PaymentOutcome.PAID_WHILE_CANCELLED and isinstance(refund_id, str) and entry.order_id:
        _start_auto_refund(refund_id, entry.order_id)


def _save(snapshot: PaymentSnapshot, event: PaymentEvent, decision: Decision, entry: LedgerEntry) -> None:
    repo = payments_repository()
    if decision.change is None or snapshot.order is None:
        repo.record(entry)
        return
    after, timeline = decision.change
    extra: list[TransactWriteItemTypeDef] = [repo.ledger_put(entry)]
    if event.order_id is not None:
        extra += [
            repo.provider_refund_put(
                event.order_id, event.provider.value, r.refund_id, r.amount, after.currency, event.event_id
            )
            for r in decision.applied_refunds
        ]
    if decision.outcome is PaymentOutcome.PAID and event.payment_reference:
        extra.append(repo.reference_put(event.provider.value, event.payment_reference, after.order_id))
    if decision.auto_refund is not None:
        extra.append(refunds_repository().put_new(decision.auto_refund))
    try:
        orders_repository().save_change(snapshot.order, after, timeline, extra=extra)
        if decision.outcome is PaymentOutcome.PAYMENT_FAILED:
            metrics.add_metric(name="PaymentsFailed", unit="Count", value=1)
        if decision.outcome is PaymentOutcome.DISPUTE_OPENED:
            # Ops are alerted by the PaymentDisputes alarm (OpsAlertsTopic) and the bus event payment.disputed.
            metrics.add_metric(name="PaymentDisputes", unit="Count", value=1)
        record_order_stage(after, timeline.at)
    except errors.ConcurrentModification as exc:
        cause = exc.__cause__
        codes = cancellation_codes(cause) if isinstance(cause, Exception) else []
        # Items: 0 order, 1 timeline event, 2 ledger entry, then refund records.
        if len(codes) > 2 and codes[2] == "ConditionalCheckFailed":
            raise errors.DuplicateEvent() from exc
        raise


def _record_unmatched(event: PaymentEvent, received_at: datetime, outcome: PaymentOutcome) -> WebhookResult:
    repo = payments_repository()
    entry = LedgerEntry.of(event, received_at=received_at, outcome=outcome)
    try:
        repo.record_unmatched(entry)
    except errors.DuplicateEvent:
        return _duplicate(repo.get_entry(None, event.provider.value, event.event_id) or entry)
    _count(entry)
    return WebhookResult(entry=entry, duplicate=False)


def _duplicate(entry: LedgerEntry) -> WebhookResult:
    logger.info("duplicate provider event", outcome=entry.outcome.value)
    metrics.add_metric(name="PaymentEventDuplicates", unit="Count", value=1)
    return WebhookResult(entry=entry, duplicate=True)


def _count(entry: LedgerEntry) -> None:
    metrics.add_metric(name="PaymentEvents", unit="Count", value=1)
    if entry.outcome in ANOMALIES:
        metrics.add_metric(name="PaymentAnomalies", unit="Count", value=1)
        metrics.add_metadata(key="anomaly", value=entry.outcome.value)
        logger.warning("payment anomaly", outcome=entry.outcome.value, **_loggable(entry.details))
    else:
        logger.info("provider event applied", outcome=entry.outcome.value)


def _loggable(details: dict[str, Any]) -> dict[str, Any]:
    return {f"detail_{k}": v for k, v in details.items() if isinstance(v, str | int | bool)}


# --- provider refunds the refund workflow initiated --------------------------------------------
def record_provider_refund(
    order_id: str, provider: Provider, provider_refund_id: str, amount: int, *, actor: str, refund_id: str
) -> bool:
    """Count a refund we asked the provider for into the order, once.

    Returns False when that provider refund id is already counted (e.g. reported by a webhook).
    Raises InvalidTransition when the order cannot take it, ConcurrentModification after retries.
    """
    repo = payments_repository()
    event = PaymentEvent(
        provider=provider,
        event_id=f"own-refund-{provider_refund_id}",
        event_type="refund.initiated",
        kind=PaymentEventKind.REFUNDED,
        order_id=order_id,
        amount=amount,
        refunds=[ProviderRefund(refund_id=provider_refund_id, amount=amount)],
    )
    for attempt in range(_ATTEMPTS):
        snapshot = repo.snapshot(order_id, provider.value, event.event_id, [provider_refund_id])
        if snapshot.order is None:
            raise errors.OrderNotFound(order_id=order_id)
        if provider_refund_id in snapshot.recorded_refunds:
            return False
        decision = _decide_refund(
            snapshot.order, event, snapshot.recorded_refunds, actor, {"refund_id": refund_id, "amount": amount}
        )
        if decision.change is None:
            raise errors.InvalidTransition(status=snapshot.order.status.value, action="REFUND")
        after, timeline = decision.change
        put = repo.provider_refund_put(order_id, provider.value, provider_refund_id, amount, after.currency, refund_id)
        try:
            orders_repository().save_change(snapshot.order, after, timeline, extra=[put])
        except errors.ConcurrentModification:
            if attempt == _ATTEMPTS - 1:
                raise
            continue
        return True
    raise AssertionError("unreachable")


# --- reading the ledger ------------------------------------------------------------------------
def list_payments(order_id: str, *, user_id: str, groups: frozenset[str]) -> list[LedgerEntry]:
    order = orders_repository().get(order_id)
    if order is None or not may_read(order.user_id, user_id=user_id, groups=groups):
        raise errors.OrderNotFound(order_id=order_id)
    return payments_repository().list_for_order(order_id)


# --- initiating a payment ----------------------------------------------------------------------
def start_payment(order_id: str, *, user_id: str, provider: Provider, gateway: PaymentGateway) -> PaymentInstructions:
    """What the client needs to pay: a Stripe PaymentIntent (through ``gateway``), or the token the stores carry."""
    order = orders_repository().get(order_id)
    if order is None or order.user_id != user_id:
        raise errors.OrderNotFound(order_id=order_id)
    if order.status not in _PAYABLE:
        raise errors.OrderNotPayable(status=order.status.value)
    if provider is not Provider.STRIPE:
        # In-app purchases: the app pays in the store and passes this as appAccountToken /
        # obfuscatedAccountId; the store's notification carries it back to us.
        return PaymentInstructions(
            order_id=order.order_id,
            provider=provider,
            amount=order.total,
            currency=order.currency,
            account_token=account_token(order.order_id),
        )
    # One PaymentIntent per order: retries (and paying again after a failure) reuse it.
    created = gateway.create_payment(
        order.order_id, order.total, order.currency, idempotency_key=f"{order.order_id}:payment_intent"
    )
    payments_repository().save_reference(Provider.STRIPE.value, created.reference, order.order_id)
    _record_started(order, created.reference, actor=f"user:{user_id}", gateway=gateway)
    metrics.add_metric(name="PaymentsStarted", unit="Count", value=1)
    return PaymentInstructions(
        order_id=order.order_id,
        provider=Provider.STRIPE,
        amount=created.amount,
        currency=created.currency,
        payment_reference=created.reference,
        client_secret=created.client_secret,
        status=created.status,
    )


def _record_started(order: Order, reference: str, *, actor: str, gateway: PaymentGateway) -> None:
    """Note the started PaymentIntent on the order, so a cancellation can cancel it at the provider.

    Conditional on the order's status and version like every change. If the order stopped being payable
    meanwhile (cancelled, expired), the intent is cancelled at once and the client gets 409: it never
    receives a client secret for an order that no longer takes money.
    """
    repo = orders_repository()
    current: Order | None = order
    for _ in range(_ATTEMPTS):
        if current is None:
            raise errors.OrderNotFound(order_id=order.order_id)
        if current.status not in _PAYABLE:
            gateway.cancel_payment(reference)
            raise errors.OrderNotPayable(status=current.status.value)
        if current.payment_provider == Provider.STRIPE.value and current.payment_reference == reference:
            return
        after, event = transitions.plan_update(
            current,
            event_type="PAYMENT_STARTED",
            actor=actor,
            details={"provider": Provider.STRIPE.value, "payment_reference": reference},
            payment_provider=Provider.STRIPE.value,
            payment_reference=reference,
        )
        try:
            repo.save_change(current, after, event)
        except errors.ConcurrentModification:
            current = repo.get(order.order_id)
            continue
        return
    raise errors.ConcurrentModification()


# --- stopping a payment when its order is cancelled --------------------------------------------
def stop_payment(order: Order, gateway: PaymentGateway) -> str:
    """Cancel the order's started payment at the provider before the order is cancelled.

    Returns what the cancellation means for the user's money:
    ``"none"`` (no payment was started here), ``"cancelled"`` (the provider will not charge it) or
    ``"taken"`` (it already succeeded or is processing: the money is refunded automatically when the
    provider's confirmation arrives). ProviderUnavailable propagates: nothing is cancelled then.
    """
    if order.payment_provider != Provider.STRIPE.value or not order.payment_reference:
        return "none"
    payment = gateway.cancel_payment(order.payment_reference)
    logger.info("payment cancelled at the provider", payment_status=payment.status)
    return "cancelled" if payment.status == "canceled" else "taken"
