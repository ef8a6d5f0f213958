"""payments: start paying an order, and read its payment ledger."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router

from orders.adapters.payments import payment_gateway
from orders.http import CurrentCaller, build_resolver, lambda_entry, owner_or
from orders.logic import payments
from orders.models.api import LedgerEntryOut, PaymentList, StartPaymentRequest
from orders.models.payment import PaymentInstructions
from orders.params import OrderId
from orders.roles import STAFF_READERS

router = Router()


@router.post(
    "/orders/<order_id>/payments",
    summary="Start paying an order",
    description="A Stripe PaymentIntent, or the store account token",
    tags=["payments"],
    status_code=201,
)
@owner_or()
def start_payment(
    order_id: OrderId, caller: CurrentCaller, body: StartPaymentRequest | None = None
) -> PaymentInstructions:
    provider = (body or StartPaymentRequest()).provider
    return payments.start_payment(order_id, user_id=caller.user_id, provider=provider, gateway=payment_gateway())


@router.get(
    "/orders/<order_id>/payments",
    summary="An order's payment ledger",
    description="Every provider event and what it did",
    tags=["payments"],
)
@owner_or(*STAFF_READERS)
def list_payments(order_id: OrderId, caller: CurrentCaller) -> PaymentList:
    entries = payments.list_payments(order_id, user_id=caller.user_id, groups=caller.groups)
    return PaymentList(items=[LedgerEntryOut.of(entry) for entry in entries])


app = build_resolver(router)
lambda_handler = lambda_entry(app)
