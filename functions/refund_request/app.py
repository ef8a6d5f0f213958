"""refund-request: ask for a refund of one's order, and read refunds."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router

from orders.http import CurrentCaller, build_resolver, lambda_entry, owner_or
from orders.logic import refunds
from orders.models.api import RefundList, RefundOut, RefundRequest
from orders.params import OrderId, RefundId
from orders.roles import STAFF_READERS

router = Router()


@router.post(
    "/orders/<order_id>/refunds",
    summary="Ask for a refund of my order (reviewed unless small)",
    description='`{"amount"?, "reason"}` → 202 the refund, reviewed by a reviewer (with a deadline) unless small; '
    "a cancelled order that was charged: its automatic refund; 409 `ORDER_NOT_REFUNDABLE`, `REFUND_WINDOW_CLOSED`, "
    "`REFUND_ALREADY_PENDING`, `AUTOMATIC_REFUND_PENDING`; 422 `REFUND_AMOUNT_INVALID`",
    tags=["refunds"],
    status_code=202,
)
@owner_or()
def request_refund(order_id: OrderId, body: RefundRequest, caller: CurrentCaller) -> RefundOut:
    refund = refunds.request_refund(order_id, user_id=caller.user_id, amount=body.amount, reason=body.reason)
    return RefundOut.of(refund)


@router.get(
    "/orders/<order_id>/refunds",
    summary="An order's refunds, oldest first",
    description='`{"items": [refund]}`',
    tags=["refunds"],
)
@owner_or(*STAFF_READERS)
def list_order_refunds(order_id: OrderId, caller: CurrentCaller) -> RefundList:
    items = refunds.list_order_refunds(order_id, user_id=caller.user_id, groups=caller.groups)
    return RefundList(items=[RefundOut.of(refund) for refund in items])


@router.get(
    "/refunds/<refund_id>",
    summary="Read a refund (its owner or staff)",
    description="404 `REFUND_NOT_FOUND`",
    tags=["refunds"],
)
@owner_or(*STAFF_READERS)
def get_refund(refund_id: RefundId, caller: CurrentCaller) -> RefundOut:
    return RefundOut.of(refunds.get_refund(refund_id, user_id=caller.user_id, groups=caller.groups))


app = build_resolver(router)
lambda_handler = lambda_entry(app)
