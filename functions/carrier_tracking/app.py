"""carrier-tracking: ``POST /webhooks/carriers/{carrier}`` (the carrier's signature is the auth) and
``GET /orders/{order_id}/tracking`` (owner or staff reader)."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path

from orders import errors
from orders.http import CurrentCaller, build_resolver, lambda_entry, owner_or, signed_by
from orders.logic import tracking
from orders.logic.carriers import SIGNATURE_HEADER
from orders.models.tracking import CarrierAck, TrackingOut
from orders.params import OrderId
from orders.roles import STAFF_READERS

router = Router()

Carrier = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[a-z0-9][a-z0-9_-]*$", examples=["fakecarrier"])]


@router.post(
    "/webhooks/carriers/<carrier>",
    summary="Carrier tracking callback (X-Carrier-Signature)",
    description="Tracking events (picked up, in transit, out for delivery, delivered, exception): deduplicated, "
    "never backwards; delivered → DELIVERED, exception → a ticket ([docs/fulfilment.md](docs/fulfilment.md))",
    tags=["fulfilment"],
)
@signed_by("the carrier")
def carrier_webhook(carrier: Carrier) -> CarrierAck:
    event = router.current_event
    raw = event.body or ""
    try:
        body = base64.b64decode(raw, validate=True) if event.is_base64_encoded else raw.encode("utf-8")
    except (binascii.Error, ValueError) as exc:
        raise errors.InvalidJson() from exc
    signature = next(
        (v for k, v in (event.headers or {}).items() if k.lower() == SIGNATURE_HEADER.lower() and isinstance(v, str)),
        None,
    )
    return tracking.receive(carrier, signature, body)


@router.get(
    "/orders/<order_id>/tracking",
    summary="Follow an order's parcel (owner or staff)",
    description="Carrier, tracking number, current milestone, events oldest first",
    tags=["fulfilment"],
)
@owner_or(*STAFF_READERS)
def get_tracking(order_id: OrderId, caller: CurrentCaller) -> TrackingOut:
    return tracking.tracking(order_id, user_id=caller.user_id, groups=caller.groups)


app = build_resolver(router)
lambda_handler = lambda_entry(app)
