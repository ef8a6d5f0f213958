"""orders: a caller's orders: list, read, timeline, invoice, and cancel (an unpaid order)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from orders.http import CurrentCaller, build_resolver, lambda_entry, owner_or
from orders.logic import ordering
from orders.models.api import InvoiceOut, OrderList, OrderOut, TimelineEventOut, TimelineOut
from orders.models.common import UtcDateTime
from orders.models.order import OrderStatus
from orders.params import OrderId, PageCursor, PageLimit
from orders.roles import STAFF_READERS

if TYPE_CHECKING:
    from orders.logic.ports import PaymentGateway

router = Router()


def payment_gateway() -> PaymentGateway:
    """The PaymentGateway this function hands the logic (wired here).

    Its adapters are imported on first use: only a cancellation needs them.
    """
    from orders.adapters.payments import payment_gateway

    return payment_gateway()


@router.get(
    "/orders", summary="List my orders, newest first", description='`{"items", "next_cursor"}`', tags=["orders"]
)
def list_orders(
    caller: CurrentCaller,
    status: Annotated[OrderStatus | None, Query(examples=["PENDING_PAYMENT"])] = None,
    from_: Annotated[UtcDateTime | None, Query(alias="from", description="ISO-8601, inclusive")] = None,
    to: Annotated[UtcDateTime | None, Query(description="ISO-8601, inclusive")] = None,
    limit: PageLimit = None,
    cursor: PageCursor = None,
) -> OrderList:
    page = ordering.list_orders(caller.user_id, status=status, start=from_, end=to, limit=limit, cursor=cursor)
    return OrderList(items=[OrderOut.of(order) for order in page.items], next_cursor=page.next_cursor)


@router.get("/orders/<order_id>", summary="Read an order", tags=["orders"])
@owner_or(*STAFF_READERS)
def get_order(order_id: OrderId, caller: CurrentCaller) -> OrderOut:
    return OrderOut.of(ordering.get_order(order_id, user_id=caller.user_id, groups=caller.groups))


@router.get("/orders/<order_id>/events", summary="An order's timeline", tags=["orders"])
@owner_or(*STAFF_READERS)
def get_timeline(order_id: OrderId, caller: CurrentCaller) -> TimelineOut:
    events = ordering.get_timeline(order_id, user_id=caller.user_id, groups=caller.groups)
    return TimelineOut(items=[TimelineEventOut.of(event) for event in events])


@router.get(
    "/orders/<order_id>/invoice",
    summary="An order's invoice: lines, totals, payments, refunds",
    description="The payments in the ledger, the refunds (ours and those made at the provider); `paid`, "
    "`refunded`, `balance`",
    tags=["orders"],
)
@owner_or(*STAFF_READERS)
def get_invoice(order_id: OrderId, caller: CurrentCaller) -> InvoiceOut:
    return ordering.get_invoice(order_id, user_id=caller.user_id, groups=caller.groups)


@router.post(
    "/orders/<order_id>/cancel",
    summary="Cancel an unpaid order",
    description="Else 409; its started Stripe payment is cancelled too, and money that arrives anyway is refunded "
    "automatically",
    tags=["orders"],
)
@owner_or()
def cancel_order(order_id: OrderId, caller: CurrentCaller) -> OrderOut:
    return OrderOut.of(ordering.cancel_order(order_id, user_id=caller.user_id, gateway=payment_gateway()))


app = build_resolver(router)
lambda_handler = lambda_entry(app)
