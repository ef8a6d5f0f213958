"""Scheduled jobs: expire unpaid orders, auto-complete delivered ones, flag missed ticket deadlines.

Each job finds its candidates with a key-condition Query on a GSI3 work queue (never a scan) and
changes each with a conditional transition, so running a job twice, or two runs at once, is harmless:
the second finds nothing due or gets an InvalidTransition it counts as skipped.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from orders import errors, lifecycle
from orders.config import get_config
from orders.dal.orders import UNPAID_QUEUES
from orders.dal.repos import orders_repository
from orders.logic import aftersales, ordering, transitions
from orders.models.common import utcnow
from orders.models.order import OrderStatus
from orders.observability import logger, metrics

if TYPE_CHECKING:
    from orders.logic.ports import PaymentGateway

EXPIRE_UNPAID = "expire-unpaid"
AUTO_COMPLETE = "auto-complete"
TICKET_BREACHES = "ticket-breaches"
JOBS = (EXPIRE_UNPAID, AUTO_COMPLETE, TICKET_BREACHES)


@dataclass
class JobResult:
    job: str
    found: int = 0
    changed: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _run(job: str, order_ids: list[str], action: lifecycle.Action, **kwargs: Any) -> JobResult:
    result = JobResult(job=job, found=len(order_ids))
    repo = orders_repository()
    for order_id in order_ids:
        try:
            transitions.change(repo, order_id, action, actor=f"system:{job}", **kwargs)
        except (errors.InvalidTransition, errors.OrderNotFound, errors.ConcurrentModification) as exc:
            logger.info("skipped", order_id=order_id, reason=type(exc).__name__)
            continue
        result.changed += 1
    return result


def expire_unpaid(now: datetime | None = None, *, gateway: PaymentGateway) -> JobResult:
    """Cancel orders still unpaid after UNPAID_ORDER_TTL_MINUTES, giving back their stock (and their started
    payments at the provider, through ``gateway``)."""
    now = now or utcnow()
    limit = get_config().scheduler_batch_limit
    repo = orders_repository()
    due = [oid for status in UNPAID_QUEUES for oid in repo.due_orders(status, now, limit)]
    result = JobResult(job=EXPIRE_UNPAID, found=len(due[:limit]))
    for order_id in due[:limit]:
        # Its payment is cancelled at the provider first (ordering.expire_order); an order whose payment
        # went through, or whose provider cannot be reached now, waits for the next run.
        try:
            ordering.expire_order(order_id, actor=f"system:{EXPIRE_UNPAID}", gateway=gateway)
        except (
            errors.InvalidTransition,
            errors.OrderNotFound,
            errors.ConcurrentModification,
            errors.PaymentInFlight,
            errors.ProviderUnavailable,
            errors.ProviderRefused,
        ) as exc:
            logger.info("skipped", order_id=order_id, reason=type(exc).__name__)
            continue
        result.changed += 1
    metrics.add_metric(name="OrdersExpired", unit="Count", value=result.changed)
    return result


def auto_complete(now: datetime | None = None) -> JobResult:
    """Complete orders delivered more than AUTO_COMPLETE_DAYS ago that their owner has not confirmed."""
    settings = get_config()
    cutoff = (now or utcnow()) - timedelta(days=settings.auto_complete_days)
    due = orders_repository().due_orders(OrderStatus.DELIVERED, cutoff, settings.scheduler_batch_limit)
    result = _run(AUTO_COMPLETE, due, lifecycle.Action.AUTO_COMPLETE)
    metrics.add_metric(name="OrdersAutoCompleted", unit="Count", value=result.changed)
    return result


def ticket_breaches(now: datetime | None = None) -> JobResult:
    flagged = aftersales.flag_breaches(now or utcnow())
    return JobResult(job=TICKET_BREACHES, found=flagged, changed=flagged)


def run(job: str, now: datetime | None = None, *, gateway: PaymentGateway) -> JobResult:
    if job == EXPIRE_UNPAID:
        return expire_unpaid(now, gateway=gateway)
    if job == AUTO_COMPLETE:
        return auto_complete(now)
    if job == TICKET_BREACHES:
        return ticket_breaches(now)
    raise errors.BadRequest(f"Unknown job {job!r}; expected one of {', '.join(JOBS)}.", job=job)
