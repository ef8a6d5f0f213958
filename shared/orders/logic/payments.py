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

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from orders import errors, lifecycle
from orders.dal.dynamo import cancellation_codes
from orders.dal.payments import PaymentSnapshot
from orders.dal.repos import orders_repository, payments_repository
from orders.logic import transitions
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
)
from orders.observability import logger, metrics

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
_LEDGER_READERS = ("ops", "support", "reviewer")


@dataclass(frozen=True)
class Decision:
    """What an event does to an order: an outcome, and the change to save (if any)."""

    outcome: PaymentOutcome
    change: tuple[Order, TimelineEvent] | None = None
    applied_refunds: list[ProviderRefund] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WebhookResult:
    entry: LedgerEntry
    duplicate: bool


# --- receiving ---------------------------------------------------------------------------------
SIGNATURE_FAILURES = (errors.WebhookSignatureMissing, errors.WebhookSignatureInvalid, errors.WebhookTimestampStale)


def parse_signed(provider: Provider, headers: dict[str, str], body: bytes) -> PaymentEvent:
    """The provider's event, verified; a refused signature is counted (alarm: a spike means probing)."""
    from orders.payments import webhook_adapter

    try:
        return webhook_adapter(provider).parse(headers, body)
    except SIGNATURE_FAILURES as exc:
        metrics.add_metric(name="WebhookSignatureFailures", unit="Count", value=1)
        logger.warning("webhook signature refused", provider=provider.value, error_code=exc.code)
        raise


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
        # Money taken for an order that no longer exists for the user: never resurrect it.
        return Decision(PaymentOutcome.PAID_WHILE_CANCELLED)
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


def handle_event(event: PaymentEvent) -> WebhookResult:
    """Apply a verified provider event once; a duplicate returns the first delivery's entry.

    A store purchase that paid the order and is not acknowledged yet is acknowledged after it is
    recorded (also on a redelivery, so a failed acknowledgement is retried by the store's retry).
    A purchase that did not pay the order (amount mismatch, cancelled order, second payment) is
    left unacknowledged: Google Play refunds it by itself after three days.
    """
    result = _handle_event(event)
    refs = event.provider_references
    if refs.get("acknowledgement") == "pending" and result.entry.outcome in _ACKNOWLEDGED_OUTCOMES:
        from orders.payments import acknowledge

        acknowledge(event)
        logger.info("store purchase acknowledged", provider=event.provider.value)
    if refs.get("consumption_request") == "pending" and result.entry.outcome is PaymentOutcome.NOTED:
        _answer_consumption_request(event)
    return result


_DELIVERED = (OrderStatus.PAID, OrderStatus.DELIVERED, OrderStatus.COMPLETED)


def _answer_consumption_request(event: PaymentEvent) -> None:
    """Apple asks, before deciding a refund the user asked it for, whether we delivered (docs/payments.md)."""
    from orders.payments import answer_consumption_request

    order = orders_repository().get(event.order_id) if event.order_id else None
    delivered = order is not None and order.status in _DELIVERED
    answer_consumption_request(event, delivered=delivered)
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
        return WebhookResult(entry=entry, duplicate=False)
    raise AssertionError("unreachable")


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
    if order is None or (order.user_id != user_id and groups.isdisjoint(_LEDGER_READERS)):
        raise errors.OrderNotFound(order_id=order_id)
    return payments_repository().list_for_order(order_id)


# --- initiating a payment ----------------------------------------------------------------------
def start_payment(order_id: str, *, user_id: str, provider: Provider) -> PaymentInstructions:
    """What the client needs to pay: a Stripe PaymentIntent, or the token the stores carry."""
    from orders.payments import payment_provider
    from orders.payments.tokens import account_token

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
    created = payment_provider().create_payment(
        order.order_id, order.total, order.currency, idempotency_key=f"{order.order_id}:payment_intent"
    )
    payments_repository().save_reference(Provider.STRIPE.value, created.reference, order.order_id)
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
