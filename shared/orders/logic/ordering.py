"""Placing, reading, listing and cancelling orders."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Unpack

from pydantic import BaseModel

from orders import errors, lifecycle
from orders.config import get_config
from orders.dal.orders import OrderPage
from orders.dal.repos import catalog_repository, orders_repository, payments_repository, refunds_repository
from orders.logic import idempotency, inventory, transitions
from orders.logic.pages import OrderFilters, orders_page
from orders.logic.pricing import price_order
from orders.logic.stages import record_order_stage
from orders.models.api import (
    CreateOrderRequest,
    InvoiceOut,
    InvoicePaymentOut,
    InvoiceRefundOut,
    OrderLineOut,
    OrderLineRequest,
)
from orders.models.catalog import Product
from orders.models.common import utcnow
from orders.models.order import Order, OrderStatus, ShippingAddress, TimelineEvent
from orders.models.payment import LedgerEntry, PaymentEventKind, PaymentOutcome
from orders.models.refund import Refund, RefundStatus
from orders.observability import logger, metrics
from orders.roles import may_read

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from orders.logic.ports import IdempotencyStore, PaymentGateway

# Invoices: ledger entries that took money, and the timeline event of a refund of ours that succeeded.
_MONEY_TAKEN = frozenset({PaymentEventKind.SUCCEEDED, PaymentEventKind.RENEWED})
_REFUND_EVENTS = frozenset({"REFUND_SUCCEEDED"})


class PlaceOrder(BaseModel):
    user_id: str
    idempotency_key: str | None = None
    request: CreateOrderRequest


def place_order(command: PlaceOrder, lambda_context: LambdaContext | None = None, *, store: IdempotencyStore) -> Order:
    """Create a priced PENDING_PAYMENT order.

    With an Idempotency-Key the result is recorded for (user, key) in ``store``: a retry with the same
    body gets the same order back (as it was created), the same key with another body is refused.
    """
    if command.idempotency_key is None:
        return _place(command=command)
    placed: Order = idempotency.call(
        _place, command, lambda_context, store, event_key_jmespath="[user_id, idempotency_key]", output=Order
    )
    return placed


def new_order(
    user_id: str,
    items: list[OrderLineRequest],
    shipping_address: ShippingAddress | None,
    products: dict[str, Product],
    now: datetime,
    merchant_id: str | None = None,
) -> tuple[Order, TimelineEvent, dict[str, int]]:
    """A priced PENDING_PAYMENT order, its CREATED event and the stock it reserves (nothing written yet)."""
    settings = get_config()
    priced = price_order(items, products, shipping_address, settings.shipping_fees)
    reserved = inventory.to_reserve(priced.lines, products)
    order = Order(
        order_id=f"ord_{uuid.uuid4().hex}",
        user_id=user_id,
        status=OrderStatus.PENDING_PAYMENT,
        items=priced.lines,
        currency=priced.currency,
        subtotal=priced.subtotal,
        shipping_fee=priced.shipping_fee,
        total=priced.total,
        shipping_address=priced.shipping_address,
        merchant_id=merchant_id,
        created_at=now,
        updated_at=now,
        expires_at=now + timedelta(minutes=settings.unpaid_order_ttl_minutes),
        reserved=reserved,
    )
    created = TimelineEvent(
        at=now,
        type="CREATED",
        to_status=order.status,
        actor=f"user:{user_id}",
        version=order.version,
        details={"total": order.total, "currency": order.currency},
    )
    return order, created, reserved


def _place(*, command: PlaceOrder) -> Order:
    request = command.request
    products = catalog_repository().get_many(line.sku for line in request.items)
    # Lines all from one merchant: the order is that merchant's (theirs to see and ship); mixed: the platform's.
    sellers = {product.merchant_id for product in products.values()}
    merchant_id = next(iter(sellers)) if len(sellers) == 1 else None
    order, created, reserved = new_order(
        command.user_id, request.items, request.shipping_address, products, utcnow(), merchant_id=merchant_id
    )
    try:
        # The order, its first event and every stock reservation: all or nothing.
        orders_repository().create(order, created, inventory.reservation_items(reserved))
    except errors.ConcurrentModification as exc:
        skus = list(reserved)
        short = [skus[index - 2] for index in exc.failed_items if index >= 2]
        if not short:
            raise
        metrics.add_metric(name="OutOfStock", unit="Count", value=1)
        raise errors.OutOfStock(f"Not enough stock left for {', '.join(short)}.", skus=short) from exc
    logger.append_keys(order_id=order.order_id)
    logger.info("order created", total=order.total, currency=order.currency, lines=len(order.items))
    metrics.add_metric(name="OrdersCreated", unit="Count", value=1)
    return order


def _readable(order: Order | None, order_id: str, user_id: str, groups: frozenset[str]) -> Order:
    if order is None or not may_read(order.user_id, user_id=user_id, groups=groups):
        # Another user's order is indistinguishable from a missing one.
        raise errors.OrderNotFound(order_id=order_id)
    return order


def get_order(order_id: str, *, user_id: str, groups: frozenset[str] = frozenset()) -> Order:
    return _readable(orders_repository().get(order_id), order_id, user_id, groups)


def get_timeline(order_id: str, *, user_id: str, groups: frozenset[str] = frozenset()) -> list[TimelineEvent]:
    order, events = orders_repository().get_with_timeline(order_id)
    _readable(order, order_id, user_id, groups)
    return events


def get_invoice(order_id: str, *, user_id: str, groups: frozenset[str] = frozenset()) -> InvoiceOut:
    """The order's invoice, from the order and its timeline, its payment ledger and its refunds (3 queries)."""
    order, events = orders_repository().get_with_timeline(order_id)
    readable = _readable(order, order_id, user_id, groups)
    return invoice(
        readable, events, payments_repository().list_for_order(order_id), refunds_repository().list_for_order(order_id)
    )


def invoice(order: Order, events: list[TimelineEvent], ledger: list[LedgerEntry], refunds: list[Refund]) -> InvoiceOut:
    """Lines and totals of the order; the money taken (ledger) and given back (our refunds, the provider's). No I/O."""
    taken = [entry for entry in ledger if entry.kind in _MONEY_TAKEN]
    refunded_at = {event.details.get("refund_id"): event.at for event in events if event.type in _REFUND_EVENTS}
    given_back = [
        InvoiceRefundOut(
            refund_id=refund.refund_id,
            provider_refund_id=refund.provider_refund_id,
            amount=refund.amount,
            currency=refund.currency,
            refunded_at=refunded_at.get(refund.refund_id, refund.decided_at or refund.requested_at),
            automatic=refund.automatic,
        )
        for refund in refunds
        if refund.status is RefundStatus.SUCCEEDED
    ]
    # A refund made at the provider: the timeline event that counted it names it (details["refunds"], with the
    # provider's event_id; ours name their refund_id), and the ledger entry that reported it has its amount.
    reported = {refund.refund_id: (refund, entry) for entry in ledger for refund in entry.refunds}
    for event in events:
        counted = event.details.get("refunds")
        if not isinstance(counted, list) or "refund_id" in event.details:
            continue
        for refund, entry in (reported[rid] for rid in counted if rid in reported):
            given_back.append(
                InvoiceRefundOut(
                    refund_id=None,
                    provider_refund_id=refund.refund_id,
                    amount=refund.amount,
                    currency=entry.currency or order.currency,
                    refunded_at=event.at,
                    automatic=False,
                )
            )
    paid = sum(entry.amount or 0 for entry in taken if entry.outcome is PaymentOutcome.PAID)
    return InvoiceOut(
        order_id=order.order_id,
        user_id=order.user_id,
        status=order.status,
        created_at=order.created_at,
        paid_at=order.paid_at,
        shipping_address=order.shipping_address,
        lines=[OrderLineOut.model_validate(line.model_dump()) for line in order.items],
        currency=order.currency,
        subtotal=order.subtotal,
        shipping_fee=order.shipping_fee,
        total=order.total,
        paid=paid,
        refunded=order.refunded_total,
        refund_pending=order.refund_pending_amount,
        balance=paid - order.refunded_total,
        payments=[
            InvoicePaymentOut(
                provider=entry.provider,
                payment_reference=entry.payment_reference,
                amount=entry.amount,
                currency=entry.currency,
                received_at=entry.received_at,
                outcome=entry.outcome,
            )
            for entry in taken
        ],
        refunds=sorted(given_back, key=lambda refund: refund.refunded_at),
    )


def list_orders(user_id: str, **filters: Unpack[OrderFilters]) -> OrderPage:
    """The user's own orders, newest first."""
    return orders_page(orders_repository().list_for_user, user_id, **filters)


def cancel_order(order_id: str, *, user_id: str, gateway: PaymentGateway) -> Order:
    """Cancel an unpaid order, and its started payment at the provider first (docs/payments.md).

    The provider is asked before the order changes, on every attempt (a payment may have been started
    between two attempts): a payment cancelled there can no longer be charged. One that had already gone
    through is refunded automatically when its confirmation arrives; the order records that
    (``refund_on_cancel``), and the timeline and the user's message say so.
    """
    order = _cancel(order_id, lifecycle.Action.CANCEL, gateway, actor=f"user:{user_id}", owner=user_id)
    metrics.add_metric(name="OrdersCancelled", unit="Count", value=1)
    return order


def expire_order(order_id: str, *, actor: str, gateway: PaymentGateway) -> Order:
    """Cancel an order left unpaid past its expiry; its payment is cancelled at the provider first.

    A payment that already went through keeps the order (raises PaymentInFlight): its confirmation is on
    its way and will mark it paid; the next run looks again.
    """
    return _cancel(order_id, lifecycle.Action.EXPIRE, gateway, actor=actor, keep_if_taken=True)


def _cancel(
    order_id: str,
    action: lifecycle.Action,
    gateway: PaymentGateway,
    *,
    actor: str,
    owner: str | None = None,
    keep_if_taken: bool = False,
) -> Order:
    from orders.logic.payments import stop_payment

    repo = orders_repository()
    for attempt in range(3):
        order = repo.get(order_id)
        if order is None or (owner is not None and order.user_id != owner):
            raise errors.OrderNotFound(order_id=order_id)
        lifecycle.apply(order.status, action)  # illegal → 409 before the provider is asked anything
        payment = stop_payment(order, gateway)
        if payment == "taken" and keep_if_taken:
            raise errors.PaymentInFlight(order_id=order_id)
        after, event = transitions.plan(
            order, action, actor=actor, details={"payment": payment}, refund_on_cancel=payment == "taken"
        )
        try:
            repo.save_change(order, after, event, inventory.release_items(order, after))
        except errors.ConcurrentModification:
            if attempt == 2:
                raise
            continue
        record_order_stage(after, event.at)
        return after
    raise AssertionError("unreachable")
