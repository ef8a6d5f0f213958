"""Carrier tracking: a signed callback becomes a tracking event; milestones move the order and tell the user.

``receive`` (POST /webhooks/carriers/{carrier}): the carrier's secret (one JSON map secret, unset → 503),
signature and window (:mod:`orders.logic.carriers`), the order named by the callback's ``reference`` whose
shipment must be this carrier and tracking number (else 409 SHIPMENT_MISMATCH, nothing written), then one
transaction stores the event once per carrier event id (a replay answers 200 ``duplicate``, nothing
written) and, when it moves the parcel forward, the state and a first-reached milestone item. The
milestone item's stream record is what notifies the user (changes.py rules, once per milestone).

After the write (and again on a replay, so a crash between the two is healed by the carrier's retry):
- delivered → the order SHIPPED → DELIVERED through the same conditional transition as the ops route
  (``shipping.deliver``): a second attempt finds it DELIVERED and changes nothing;
- exception → one support ticket per shipment (its id is derived from the shipment, created conditionally).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from orders import errors
from orders.config import get_config
from orders.dal.repos import orders_repository, tracking_repository
from orders.logic import carriers, ordering, shipping
from orders.logic.carriers import TrackingStatus
from orders.models.aftersales import Ticket, TicketMessage, TicketStatus
from orders.models.common import utcnow
from orders.models.order import Order, OrderStatus
from orders.models.tracking import CarrierAck, TrackingEvent, TrackingEventOut, TrackingOut, TrackingState
from orders.observability import logger, metrics
from orders.secrets import SecretName, value

_ATTEMPTS = 3
EXCEPTION_TICKET_CATEGORY = "delivery"


def receive(carrier: str, signature: str | None, body: bytes, *, now: datetime | None = None) -> CarrierAck:
    now = now or utcnow()
    secret = carriers.carrier_secret(value(SecretName.CARRIER_SECRETS), carrier)
    try:
        carriers.verify(secret, signature, body, now)
    except (errors.WebhookSignatureInvalid, errors.WebhookTimestampStale):
        metrics.add_metric(name="WebhookSignatureFailures", unit="Count", value=1)
        raise
    callback = carriers.parse_event(body)
    logger.append_keys(order_id=callback.reference, carrier=carrier, carrier_event_id=callback.event_id)
    order = orders_repository().get(callback.reference)
    if order is None:
        raise errors.OrderNotFound(order_id=callback.reference)
    if order.shipment is None or (order.shipment.carrier, order.shipment.tracking_number) != (
        carrier,
        callback.tracking_number,
    ):
        raise errors.ShipmentMismatch(order_id=order.order_id)
    event = TrackingEvent(
        event_id=callback.event_id,
        carrier=carrier,
        tracking_number=callback.tracking_number,
        status=callback.status.value,
        occurred_at=callback.occurred_at,
        received_at=now,
        location=callback.location,
        description=callback.description,
    )
    ack = _record(order, event, callback, now)
    _follow_up(order, carrier)
    return ack


def _record(order: Order, event: TrackingEvent, callback: carriers.CarrierEvent, now: datetime) -> CarrierAck:
    repo = tracking_repository()
    expires_at = now + timedelta(days=get_config().carrier_event_dedupe_days)
    for attempt in range(_ATTEMPTS):
        before = repo.state(order.order_id)
        current = TrackingStatus(before.status) if before else None
        moved = carriers.moves_forward(current, before.status_at if before else None, callback)
        after: TrackingState | None = None
        milestone: str | None = None
        if moved:
            reached = list(before.reached) if before else []
            if event.status not in reached:
                milestone = event.status
                reached.append(event.status)
            after = TrackingState(
                order_id=order.order_id,
                carrier=event.carrier,
                tracking_number=event.tracking_number,
                status=event.status,
                status_at=event.occurred_at,
                reached=reached,
                version=before.version + 1 if before else 1,
            )
        try:
            repo.record(
                order.order_id,
                order.user_id,
                event,
                before=before,
                after=after,
                new_milestone=milestone,
                expires_at=expires_at,
            )
        except errors.CarrierEventReplayed:
            logger.info("carrier event replayed: nothing changed")
            state = repo.state(order.order_id)
            return CarrierAck(duplicate=True, status=state.status if state else None, moved=False)
        except errors.ConcurrentModification:
            if attempt == _ATTEMPTS - 1:
                raise
            continue
        metrics.add_metric(name="CarrierEvents", unit="Count", value=1)
        logger.info("carrier event recorded", extra={"status": event.status, "moved": moved})
        latest = after or before
        return CarrierAck(duplicate=False, status=latest.status if latest else None, moved=moved)
    raise AssertionError("unreachable")


def _follow_up(order: Order, carrier: str) -> None:
    """What the parcel's state implies for the order; each step is idempotent (safe on every retry)."""
    state = tracking_repository().state(order.order_id)
    if state is None:
        return
    if state.status == TrackingStatus.DELIVERED and order.status is OrderStatus.SHIPPED:
        try:
            shipping.deliver(order.order_id, actor=f"carrier:{carrier}")
        except errors.InvalidTransition:
            logger.info("order no longer SHIPPED: delivery already recorded")
    if TrackingStatus.EXCEPTION in state.reached:
        _open_exception_ticket(order, state)


def _open_exception_ticket(order: Order, state: TrackingState) -> None:
    now = utcnow()
    shipment = hashlib.blake2b(f"{state.carrier}#{state.tracking_number}".encode(), digest_size=6).hexdigest()
    ticket = Ticket(
        ticket_id=f"tkt-{order.order_id}-carrierexc{shipment}",
        order_id=order.order_id,
        user_id=order.user_id,
        category=EXCEPTION_TICKET_CATEGORY,
        status=TicketStatus.OPEN,
        messages=[
            TicketMessage(
                at=now,
                author="carrier",
                author_id=state.carrier,
                message=f"The carrier {state.carrier} reported a delivery exception for tracking number "
                f"{state.tracking_number}.",
            )
        ],
        created_at=now,
        updated_at=now,
        due_at=now + timedelta(hours=get_config().ticket_response_hours),
    )
    if tracking_repository().open_ticket_once(ticket):
        logger.info("delivery exception ticket opened", extra={"ticket_id": ticket.ticket_id})
        metrics.add_metric(name="TicketsOpened", unit="Count", value=1)


def tracking(order_id: str, *, user_id: str, groups: frozenset[str]) -> TrackingOut:
    """The order's tracking for its owner or a staff reader (anyone else: ORDER_NOT_FOUND)."""
    order = ordering.get_order(order_id, user_id=user_id, groups=groups)
    repo = tracking_repository()
    state = repo.state(order_id)
    return TrackingOut(
        order_id=order_id,
        carrier=order.shipment.carrier if order.shipment else None,
        tracking_number=order.shipment.tracking_number if order.shipment else None,
        status=state.status if state else None,
        events=[TrackingEventOut.of(event) for event in repo.events(order_id)],
    )
