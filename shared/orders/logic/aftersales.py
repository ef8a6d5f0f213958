"""Feedback on delivered orders and support tickets with a response deadline.

Tickets: OPEN (support must answer before ``due_at``) → ANSWERED on a support reply; an owner
reply to an ANSWERED ticket reopens it with a new deadline; support resolves (RESOLVED is final).
A ticket id embeds its order id (``tkt-<order id>-<suffix>``), so it is found with one GetItem.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from orders import errors
from orders.config import get_config
from orders.dal.repos import aftersales_repository, orders_repository
from orders.models.aftersales import Feedback, Ticket, TicketMessage, TicketStatus
from orders.models.api import FeedbackRequest, TicketRequest
from orders.models.common import utcnow
from orders.observability import logger, metrics
from orders.roles import Role, may_read

SUPPORT = Role.SUPPORT
_TICKET_PREFIX = "tkt-"
_ATTEMPTS = 3


# --- feedback ------------------------------------------------------------------------------------
def leave_feedback(order_id: str, request: FeedbackRequest, *, user_id: str) -> Feedback:
    """The owner's one rating of a delivered or completed order."""
    order = orders_repository().get(order_id)
    if order is None or order.user_id != user_id:
        raise errors.OrderNotFound(order_id=order_id)
    feedback = Feedback(
        order_id=order_id, user_id=user_id, rating=request.rating, comment=request.comment, created_at=utcnow()
    )
    aftersales_repository().add_feedback(feedback)
    metrics.add_metric(name="FeedbackRating", unit="Count", value=request.rating)
    metrics.add_metric(name="FeedbackReceived", unit="Count", value=1)
    return feedback


# --- tickets -------------------------------------------------------------------------------------
def _order_of(ticket_id: str) -> str | None:
    if not ticket_id.startswith(_TICKET_PREFIX):
        return None
    order_id, sep, _ = ticket_id[len(_TICKET_PREFIX) :].rpartition("-")
    return order_id if sep and order_id else None


def open_ticket(order_id: str, request: TicketRequest, *, user_id: str) -> Ticket:
    order = orders_repository().get(order_id)
    if order is None or order.user_id != user_id:
        raise errors.OrderNotFound(order_id=order_id)
    now = utcnow()
    ticket = Ticket(
        ticket_id=f"{_TICKET_PREFIX}{order_id}-{uuid.uuid4().hex[:12]}",
        order_id=order_id,
        user_id=user_id,
        category=request.category,
        status=TicketStatus.OPEN,
        messages=[TicketMessage(at=now, author="owner", author_id=user_id, message=request.message)],
        created_at=now,
        updated_at=now,
        due_at=now + timedelta(hours=get_config().ticket_response_hours),
    )
    aftersales_repository().create_ticket(ticket)
    logger.info("ticket opened", ticket_id=ticket.ticket_id, order_id=order_id, category=request.category)
    metrics.add_metric(name="TicketsOpened", unit="Count", value=1)
    return ticket


def get_ticket(ticket_id: str, *, user_id: str, groups: frozenset[str]) -> Ticket:
    """The ticket, for its owner or support; anyone else gets TICKET_NOT_FOUND."""
    order_id = _order_of(ticket_id)
    ticket = aftersales_repository().get_ticket(order_id, ticket_id) if order_id else None
    if ticket is None or not may_read(ticket.user_id, user_id=user_id, groups=groups, readers=frozenset({SUPPORT})):
        raise errors.TicketNotFound(ticket_id=ticket_id)
    return ticket


Decide = Callable[[Ticket, str, frozenset[str], datetime], Ticket]


def _change(ticket_id: str, user_id: str, groups: frozenset[str], decide: Decide) -> Ticket:
    for attempt in range(_ATTEMPTS):
        ticket = get_ticket(ticket_id, user_id=user_id, groups=groups)
        if ticket.status is TicketStatus.RESOLVED:
            raise errors.TicketResolved(ticket_id=ticket_id)
        after = decide(ticket, user_id, groups, utcnow())
        try:
            aftersales_repository().save_ticket(ticket, after.model_copy(update={"version": ticket.version + 1}))
        except errors.ConcurrentModification:
            if attempt == _ATTEMPTS - 1:
                raise
            continue
        return after.model_copy(update={"version": ticket.version + 1})
    raise AssertionError("unreachable")


def reply(ticket_id: str, message: str, *, user_id: str, groups: frozenset[str]) -> Ticket:
    """A message from support (→ ANSWERED) or the owner (an ANSWERED ticket reopens with a new deadline)."""

    def decide(ticket: Ticket, user: str, roles: frozenset[str], now: datetime) -> Ticket:
        as_owner = ticket.user_id == user
        entry = TicketMessage(at=now, author="owner" if as_owner else SUPPORT, author_id=user, message=message)
        update: dict[str, object] = {"messages": [*ticket.messages, entry], "updated_at": now}
        if not as_owner:
            update |= {"status": TicketStatus.ANSWERED, "due_at": None}
            if ticket.first_response_at is None:
                update["first_response_at"] = now
        elif ticket.status is TicketStatus.ANSWERED:
            hours = get_config().ticket_response_hours
            update |= {"status": TicketStatus.OPEN, "due_at": now + timedelta(hours=hours), "breached_at": None}
        return ticket.model_copy(update=update)

    return _change(ticket_id, user_id, groups, decide)


def resolve(ticket_id: str, *, user_id: str, groups: frozenset[str]) -> Ticket:
    def decide(ticket: Ticket, user: str, roles: frozenset[str], now: datetime) -> Ticket:
        return ticket.model_copy(
            update={"status": TicketStatus.RESOLVED, "resolved_at": now, "updated_at": now, "due_at": None}
        )

    ticket = _change(ticket_id, user_id, groups, decide)
    metrics.add_metric(name="TicketsResolved", unit="Count", value=1)
    return ticket


def ticket_queue(status: TicketStatus, *, limit: int | None, cursor: str | None) -> tuple[list[Ticket], str | None]:
    if status is TicketStatus.RESOLVED:
        raise errors.InvalidRequest("Only OPEN and ANSWERED tickets are queued.", status=status.value)
    return aftersales_repository().ticket_queue(status, limit=limit or get_config().default_page_size, cursor=cursor)


def flag_breaches(now: datetime | None = None) -> int:
    """Mark OPEN tickets past their deadline as breached, once each (conditional on version). Returns how many."""
    now = now or utcnow()
    repo = aftersales_repository()
    flagged = 0
    cursor: str | None = None
    remaining = get_config().scheduler_batch_limit
    while remaining > 0:
        tickets, cursor = repo.ticket_queue(TicketStatus.OPEN, limit=min(remaining, 100), cursor=cursor, until=now)
        remaining -= len(tickets)
        for ticket in tickets:
            if ticket.breached_at is not None:
                continue
            after = ticket.model_copy(update={"breached_at": now, "version": ticket.version + 1})
            try:
                repo.save_ticket(ticket, after)
            except errors.ConcurrentModification:
                continue  # answered or flagged meanwhile: the next run decides again
            flagged += 1
            logger.warning("ticket response deadline missed", ticket_id=ticket.ticket_id, due_at=str(ticket.due_at))
        if cursor is None or not tickets:
            break
    if flagged:
        metrics.add_metric(name="TicketResponseBreached", unit="Count", value=flagged)
    return flagged
