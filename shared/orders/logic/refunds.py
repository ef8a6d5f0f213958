"""Refunds: request, review decision, and the steps the refund workflow runs.

Every write changes the refund and its order in one transaction (``save_change`` with the
refund as an extra item), conditional on both versions: the order's reservation
(``refund_pending_id`` / ``refund_pending_amount``) makes "one refund at a time" and "never more
than what is refundable" hold under concurrent requests, and a retried step cannot count twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from orders import errors, lifecycle
from orders.config import Config, get_config
from orders.dal.refunds import RefundPage
from orders.dal.repos import orders_repository, refund_workflow, refunds_repository
from orders.dal.workflow import Resume
from orders.logic import transitions
from orders.logic.pages import page_size
from orders.logic.ports import ProviderRefund, RefundGateway
from orders.logic.retry import retrying
from orders.logic.review import Review, ReviewErrors
from orders.logic.stages import Stage, record_stage
from orders.models.common import format_ts, utcnow
from orders.models.order import Order, OrderStatus, TimelineEvent
from orders.models.refund import SYSTEM_AUTO, AutoApprovals, Refund, RefundStatus, new_refund_id
from orders.models.workflow import Decision
from orders.observability import logger, metrics
from orders.roles import may_read

if TYPE_CHECKING:
    from orders.dal.workflow import ReviewWorkflow

WORKFLOW_ACTOR = "system:workflow"


def _release() -> dict[str, Any]:
    return {"refund_pending_id": None, "refund_pending_amount": 0}


def _load(refund_id: str) -> tuple[Refund, Order]:
    refund, order = refunds_repository().get_with_order(refund_id)
    if refund is None:
        raise errors.RefundNotFound(refund_id=refund_id)
    if order is None:  # a refund always has its order; only broken data gets here
        raise errors.OrderNotFound(order_id=refund.order_id)
    return refund, order


# --- request ---------------------------------------------------------------------------------
def auto_approvable(
    order: Order, amount: int, *, approvals: AutoApprovals | None, now: datetime, config: Config
) -> bool:
    """Whether a refund of ``amount`` skips review: within the per-order and the per-user limit.

    Per order: the running total (refunded so far, pending, and this one) is compared, so several small
    refunds cannot add up past the limit unreviewed. Per user: what was approved automatically within
    the rolling window, in the order's currency, plus this one.
    """
    running = order.refunded_total + order.refund_pending_amount + amount
    if running > config.auto_approve_max_minor:
        return False
    if approvals is None:
        return True
    window = config.auto_approve_user_window_hours
    return approvals.total(order.currency, now, window) + amount <= config.auto_approve_user_max_minor


def plan_request(
    order: Order,
    *,
    amount: int | None,
    reason: str,
    now: datetime,
    config: Config,
    approvals: AutoApprovals | None = None,
) -> tuple[Refund, Order, TimelineEvent]:
    """The refund a request creates and the order that reserves its amount (pure: no I/O)."""
    if order.status not in lifecycle.TRANSITIONS[lifecycle.Action.REFUND_FULL]:
        raise errors.OrderNotRefundable(
            f"An order that is {order.status.value} cannot be refunded.", status=order.status.value
        )
    if now > order.created_at + timedelta(days=config.refund_window_days):
        raise errors.RefundWindowClosed(window_days=config.refund_window_days)
    if order.refund_pending_id is not None:
        raise errors.RefundAlreadyPending(refund_id=order.refund_pending_id)
    refundable = order.refundable
    amount = refundable if amount is None else amount
    if amount <= 0 or amount > refundable:
        raise errors.RefundAmountInvalid(refundable=refundable, currency=order.currency)
    auto = auto_approvable(order, amount, approvals=approvals, now=now, config=config)
    refund = Refund(
        refund_id=new_refund_id(order.order_id),
        order_id=order.order_id,
        user_id=order.user_id,
        amount=amount,
        currency=order.currency,
        status=RefundStatus.APPROVED if auto else RefundStatus.PENDING_REVIEW,
        reason=reason,
        requested_at=now,
        review_due_at=None if auto else now + timedelta(seconds=config.review_timeout_seconds),
        decided_by=SYSTEM_AUTO if auto else None,
        decided_at=now if auto else None,
    )
    after, event = transitions.plan_update(
        order,
        event_type="REFUND_REQUESTED",
        actor=f"user:{order.user_id}",
        details={"refund_id": refund.refund_id, "amount": amount, "currency": order.currency, "reason": reason},
        refund_pending_id=refund.refund_id,
        refund_pending_amount=amount,
    )
    return refund, after, event


def request_refund(order_id: str, *, user_id: str, amount: int | None, reason: str) -> Refund:
    """Write the refund (reserving its amount on the order), then start its workflow."""
    config = get_config()
    orders, refunds = orders_repository(), refunds_repository()

    def attempt() -> Refund:
        order = orders.get(order_id)
        if order is None or order.user_id != user_id:
            raise errors.OrderNotFound(order_id=order_id)
        if order.status is OrderStatus.CANCELLED:
            raise _cancelled(order)
        now = utcnow()
        approvals = refunds.auto_approvals(user_id)
        refund, after, event = plan_request(
            order, amount=amount, reason=reason, now=now, config=config, approvals=approvals
        )
        extra = [refunds.put_new(refund)]
        if refund.status is RefundStatus.APPROVED:
            window = config.auto_approve_user_window_hours
            extra.append(
                refunds.auto_approvals_put(approvals, approvals.add(refund.currency, refund.amount, now, window))
            )
        orders.save_change(order, after, event, extra=extra)
        return refund

    try:
        refund = retrying(attempt)
    except _AlreadyRefunding as automatic:
        # Money that arrived after the order was cancelled is already on its way back: that refund is the
        # answer (the user sees it and its status), not a 409 saying the order cannot be refunded.
        return automatic.refund
    logger.append_keys(order_id=order_id, refund_id=refund.refund_id)
    payload = {
        "refund_id": refund.refund_id,
        "order_id": refund.order_id,
        "auto_approved": refund.status is RefundStatus.APPROVED,
        "review_due_at": format_ts(refund.review_due_at) if refund.review_due_at else None,
        "review_timeout_seconds": config.review_timeout_seconds,
    }
    REVIEW.start(refund.refund_id, payload)  # one that cannot start is FAILED (visible, reservation released)
    logger.info("refund requested", amount=refund.amount, auto_approved=payload["auto_approved"])
    metrics.add_metric(name="RefundsRequested", unit="Count", value=1)
    return refund


class _AlreadyRefunding(Exception):
    def __init__(self, refund: Refund) -> None:
        super().__init__(refund.refund_id)
        self.refund = refund


def _cancelled(order: Order) -> Exception:
    """What a refund request on a cancelled order gets: its automatic refund, or why there is nothing to refund."""
    from orders.logic.payments import auto_refund_id

    automatic = [
        refund
        for reference in order.stray_charges
        if (refund := refunds_repository().get(auto_refund_id(order.order_id, reference))) is not None
    ]
    if automatic:
        return _AlreadyRefunding(max(automatic, key=lambda refund: refund.requested_at))
    if order.refund_on_cancel:
        return errors.AutomaticRefundPending(order_id=order.order_id)
    return errors.OrderNotRefundable(
        "This order was cancelled before any payment was taken: there is nothing to refund.",
        status=order.status.value,
    )


# --- reads -----------------------------------------------------------------------------------
def get_refund(refund_id: str, *, user_id: str, groups: frozenset[str]) -> Refund:
    refund = refunds_repository().get(refund_id)
    if refund is None or not may_read(refund.user_id, user_id=user_id, groups=groups):
        raise errors.RefundNotFound(refund_id=refund_id)
    return refund


def list_order_refunds(order_id: str, *, user_id: str, groups: frozenset[str]) -> list[Refund]:
    order = orders_repository().get(order_id)
    if order is None or not may_read(order.user_id, user_id=user_id, groups=groups):
        raise errors.OrderNotFound(order_id=order_id)
    return refunds_repository().list_for_order(order_id)


def refunds_of_user(user_id: str, *, limit: int | None) -> list[Refund]:
    """A user's refunds, newest first, so a reviewer sees the history behind a request."""
    return refunds_repository().list_for_user(user_id, limit=page_size(limit))


def review_queue(*, limit: int | None, cursor: str | None) -> RefundPage:
    return refunds_repository().review_queue(limit=page_size(limit), after=cursor)


# --- review ------------------------------------------------------------------------------------
def _record_decision(
    refund: Refund, order: Order, decision: Decision, *, actor: str, note: str | None, now: datetime
) -> Refund:
    approve = decision is Decision.APPROVE
    after = refund.model_copy(
        update={
            "status": RefundStatus.APPROVED if approve else RefundStatus.REJECTED,
            "decided_by": actor,
            "decided_at": now,
            "decision_note": note,
            "task_token": None,
            "version": refund.version + 1,
        }
    )
    order_after, event = transitions.plan_update(
        order,
        event_type="REFUND_APPROVED" if approve else "REFUND_REJECTED",
        actor=actor,
        details={"refund_id": refund.refund_id, "amount": refund.amount, **({"note": note} if note else {})},
        **({} if approve else _release()),
    )
    orders_repository().save_change(order, order_after, event, extra=[refunds_repository().update(refund, after)])
    record_stage(Stage.REFUND_REQUESTED_TO_DECIDED, refund.requested_at, now)
    return after


def decide(refund_id: str, *, reviewer_id: str, decision: Decision, note: str | None) -> Refund:
    """A reviewer's decision: recorded first (conditional write), then the workflow resumes."""
    return REVIEW.decide(refund_id, reviewer_id=reviewer_id, decision=decision, note=note, reviewer_merchant=None)


# --- workflow steps ----------------------------------------------------------------------------
def open_review(refund_id: str) -> None:
    """First step: the review (with its due time) or the automatic approval on the timeline."""

    def attempt() -> None:
        refund, order = _load(refund_id)
        if refund.version > 1:  # a retried step: already recorded
            return
        details: dict[str, Any]
        if refund.status is RefundStatus.PENDING_REVIEW:
            event_type, details = "REFUND_REVIEW_STARTED", {"due_at": format_ts(refund.review_due_at or utcnow())}
            actor = WORKFLOW_ACTOR
        else:
            event_type, details, actor = "REFUND_APPROVED", {"amount": refund.amount}, SYSTEM_AUTO
        order_after, event = transitions.plan_update(
            order, event_type=event_type, actor=actor, details={"refund_id": refund_id, **details}
        )
        after = refund.model_copy(update={"version": refund.version + 1})
        orders_repository().save_change(order, order_after, event, extra=[refunds_repository().update(refund, after)])

    retrying(attempt)


def record_timeout(refund_id: str) -> dict[str, str]:
    """The review deadline passed: apply the configured action, unless a reviewer's decision is recorded."""
    return REVIEW.record_timeout(refund_id)


def execute(refund_id: str, *, gateway: RefundGateway) -> ProviderRefund:
    """Refund at the provider through ``gateway``; the refund id is the idempotency key, so retries refund once."""
    refund, order = _load(refund_id)
    if refund.status is RefundStatus.SUCCEEDED and refund.provider_refund_id:
        return ProviderRefund(provider_refund_id=refund.provider_refund_id, status="succeeded")
    if refund.status is not RefundStatus.APPROVED:
        raise errors.InvalidRefundState(refund_id=refund_id, status=refund.status.value)
    result = gateway.refund(order=order, refund=refund, idempotency_key=refund.refund_id)
    logger.info("provider refunded", provider_refund_id=result.provider_refund_id, status=result.status)
    return result


def finalize(refund_id: str, *, provider_refund_id: str) -> Refund:
    """One transaction: the refund SUCCEEDED, the order's refunded total raised (REFUNDED when full)."""

    def attempt() -> Refund:
        refund, order = _load(refund_id)
        if refund.status is RefundStatus.SUCCEEDED:  # a retry of this step after it landed
            return refund
        if refund.automatic and refund.status is RefundStatus.APPROVED:
            return _finalize_automatic(refund, order, provider_refund_id)
        if refund.status is not RefundStatus.APPROVED or order.refund_pending_id != refund_id:
            raise errors.InvalidRefundState(refund_id=refund_id, status=refund.status.value)
        refunded_total = order.refunded_total + refund.amount
        updates = {"refunded_total": refunded_total, **_release()}
        details = {
            "refund_id": refund_id,
            "amount": refund.amount,
            "refunded_total": refunded_total,
            "provider_refund_id": provider_refund_id,
        }
        if refunded_total >= order.total:
            order_after, event = transitions.plan(
                order, lifecycle.Action.REFUND_FULL, actor=WORKFLOW_ACTOR, details=details, **updates
            )
            event = event.model_copy(update={"type": "REFUND_SUCCEEDED"})
        else:
            order_after, event = transitions.plan_update(
                order, event_type="REFUND_SUCCEEDED", actor=WORKFLOW_ACTOR, details=details, **updates
            )
        after = _succeeded(refund, provider_refund_id, order, order_after, event)
        record_stage(Stage.REFUND_DECIDED_TO_EXECUTED, refund.decided_at, event.at)
        metrics.add_metric(name="RefundedAmountMinor", unit="Count", value=refund.amount)
        return after

    return retrying(attempt)


def _finalize_automatic(refund: Refund, order: Order, provider_refund_id: str) -> Refund:
    """An automatic refund gave back money that arrived for a cancelled order: the order stays CANCELLED,
    its ``stray_refunded`` rises (its ``refunded_total`` is about the order's own payment, which never was)."""
    stray_refunded = order.stray_refunded + refund.amount
    order_after, event = transitions.plan_update(
        order,
        event_type="REFUND_SUCCEEDED",
        actor=WORKFLOW_ACTOR,
        details={
            "refund_id": refund.refund_id,
            "amount": refund.amount,
            "automatic": True,
            "provider_refund_id": provider_refund_id,
        },
        stray_refunded=stray_refunded,
    )
    return _succeeded(refund, provider_refund_id, order, order_after, event)


def _succeeded(
    refund: Refund, provider_refund_id: str, order: Order, order_after: Order, event: TimelineEvent
) -> Refund:
    """Write the refund SUCCEEDED (with the provider's refund id) in the same transaction as its order's change."""
    after = refund.model_copy(
        update={
            "status": RefundStatus.SUCCEEDED,
            "provider_refund_id": provider_refund_id,
            "version": refund.version + 1,
        }
    )
    orders_repository().save_change(order, order_after, event, extra=[refunds_repository().update(refund, after)])
    metrics.add_metric(name="RefundsSucceeded", unit="Count", value=1)
    return after


def mark_failed(refund_id: str, *, cause: str) -> Refund | None:
    """Close an open refund as FAILED with its cause and release the order's reservation."""
    return REVIEW.mark_failed(refund_id, cause=cause)


class RefundReview(Review[tuple[Refund, Order], Refund]):
    """The refund's side of the review workflow (orders.logic.review): each write changes the refund and its
    order together; an approved refund is executed by the workflow's later steps."""

    noun, metric_prefix, timeout_metric = "refund", "Refunds", "RefundReviewsTimedOut"
    refusals = ReviewErrors(
        already_decided=errors.RefundAlreadyDecided, expired=errors.ReviewExpired, not_open=errors.ReviewNotOpen
    )

    def workflow(self) -> ReviewWorkflow:
        return refund_workflow()

    def load(self, item_id: str) -> tuple[Refund, Order]:
        return _load(item_id)

    def item(self, state: tuple[Refund, Order]) -> Refund:
        return state[0]

    def record(
        self, state: tuple[Refund, Order], decision: Decision, *, actor: str, note: str | None, timed_out: bool
    ) -> Refund:
        refund, order = state
        return _record_decision(refund, order, decision, actor=actor, note=note, now=utcnow())

    def close_failed(self, state: tuple[Refund, Order], cause: str) -> Refund:
        """FAILED, and the order's reservation released."""
        refund, order = state
        after = refund.model_copy(
            update={
                "status": RefundStatus.FAILED,
                "failure_cause": cause,
                "task_token": None,
                "version": refund.version + 1,
            }
        )
        order_after, event = transitions.plan_update(
            order,
            event_type="REFUND_FAILED",
            actor=WORKFLOW_ACTOR,
            details={"refund_id": refund.refund_id, "cause": cause},
            **(_release() if order.refund_pending_id == refund.refund_id else {}),
        )
        orders_repository().save_change(order, order_after, event, extra=[refunds_repository().update(refund, after)])
        return after

    def timeout_action(self) -> Decision:
        return Decision(get_config().review_timeout_action)

    def approved(self, item: Refund) -> bool:
        return item.status in (RefundStatus.APPROVED, RefundStatus.SUCCEEDED)

    def log_keys(self, item: Refund) -> dict[str, str]:
        return {"order_id": item.order_id, "refund_id": item.refund_id}

    def check_reviewer(self, state: tuple[Refund, Order], *, reviewer_id: str, reviewer_merchant: str | None) -> None:
        if state[1].user_id == reviewer_id:
            raise errors.OwnOrderReview(refund_id=state[0].refund_id)

    def not_resumed(self, item_id: str, outcome: Resume) -> None:
        if outcome is Resume.NOT_WAITING:
            # No execution waits for this decision any more: close the refund visibly.
            self.mark_failed(item_id, cause="ReviewAbandoned: the workflow was no longer waiting for a decision")
            raise errors.ReviewExpired(refund_id=item_id)
        # TIMED_OUT: the deadline passed between our write and the resume: the timeout step finds the
        # recorded decision and applies it, so the reviewer's decision stands.
        logger.warning("decision recorded as the review timed out; the workflow applies it")


REVIEW = RefundReview()
