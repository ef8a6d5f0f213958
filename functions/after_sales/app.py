"""after-sales: feedback on delivered orders, support tickets and the support queue."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from orders.http import CurrentCaller, build_resolver, lambda_entry, owner_or, requires_role
from orders.logic import aftersales
from orders.models.aftersales import Feedback, Ticket, TicketStatus
from orders.models.api import FeedbackOut, FeedbackRequest, ReplyRequest, TicketList, TicketOut, TicketRequest
from orders.params import OrderId, PageCursor, PageLimit, TicketId
from orders.roles import Role

router = Router()


def _ticket(ticket: Ticket) -> TicketOut:
    return TicketOut.model_validate(ticket.model_dump())


def _feedback(feedback: Feedback) -> FeedbackOut:
    return FeedbackOut.model_validate(feedback.model_dump())


@router.post(
    "/orders/<order_id>/feedback",
    summary="Rate a delivered order (owner, once)",
    description="A rating 1..5 once the order is delivered",
    tags=["after-sales"],
    status_code=201,
)
@owner_or()
def leave_feedback(order_id: OrderId, body: FeedbackRequest, caller: CurrentCaller) -> FeedbackOut:
    return _feedback(aftersales.leave_feedback(order_id, body, user_id=caller.user_id))


@router.post(
    "/orders/<order_id>/tickets", summary="Open a support ticket (owner)", tags=["after-sales"], status_code=201
)
@owner_or()
def open_ticket(order_id: OrderId, body: TicketRequest, caller: CurrentCaller) -> TicketOut:
    return _ticket(aftersales.open_ticket(order_id, body, user_id=caller.user_id))


@router.get("/tickets", summary="Support queue, oldest due first (support)", tags=["after-sales"])
@requires_role(Role.SUPPORT)
def ticket_queue(
    caller: CurrentCaller,
    status: Annotated[TicketStatus, Query(examples=["OPEN"])] = TicketStatus.OPEN,
    limit: PageLimit = None,
    cursor: PageCursor = None,
) -> TicketList:
    tickets, next_cursor = aftersales.ticket_queue(status, limit=limit, cursor=cursor)
    return TicketList(items=[_ticket(t) for t in tickets], next_cursor=next_cursor)


@router.get("/tickets/<ticket_id>", summary="Read a ticket (owner or support)", tags=["after-sales"])
@owner_or(Role.SUPPORT)
def get_ticket(ticket_id: TicketId, caller: CurrentCaller) -> TicketOut:
    return _ticket(aftersales.get_ticket(ticket_id, user_id=caller.user_id, groups=caller.groups))


@router.post("/tickets/<ticket_id>/replies", summary="Reply (owner or support)", tags=["after-sales"])
@owner_or(Role.SUPPORT)
def reply(ticket_id: TicketId, body: ReplyRequest, caller: CurrentCaller) -> TicketOut:
    return _ticket(aftersales.reply(ticket_id, body.message, user_id=caller.user_id, groups=caller.groups))


@router.post("/tickets/<ticket_id>/resolve", summary="Resolve a ticket (support)", tags=["after-sales"])
@requires_role(Role.SUPPORT)
def resolve(ticket_id: TicketId, caller: CurrentCaller) -> TicketOut:
    return _ticket(aftersales.resolve(ticket_id, user_id=caller.user_id, groups=caller.groups))


app = build_resolver(router)
lambda_handler = lambda_entry(app)
