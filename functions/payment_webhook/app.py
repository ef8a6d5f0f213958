"""payment-webhook: ``POST /webhooks/{stripe,apple,google}`` (no user auth: the provider signature is).

Verify on the raw body, record, transition, answer 2xx; nothing slow happens here (fulfilment
and notifications follow on the table's stream).
"""

from __future__ import annotations

import base64
import binascii

from aws_lambda_powertools.event_handler.api_gateway import Router

from orders import errors
from orders.adapters.payments import payment_webhooks
from orders.http import build_resolver, lambda_entry, signed_by
from orders.logic.payments import handle_event, parse_signed
from orders.models.api import WebhookAck
from orders.models.payment import Provider

router = Router()


def _receive(provider: Provider) -> WebhookAck:
    event = router.current_event
    raw = event.body or ""
    try:
        body = base64.b64decode(raw, validate=True) if event.is_base64_encoded else raw.encode("utf-8")
    except (binascii.Error, ValueError) as exc:
        raise errors.InvalidJson() from exc
    headers = {name.lower(): value for name, value in (event.headers or {}).items() if isinstance(value, str)}
    webhooks = payment_webhooks()
    result = handle_event(parse_signed(provider, headers, body, webhooks=webhooks), webhooks=webhooks)
    return WebhookAck.of(result.entry, duplicate=result.duplicate)


@router.post("/webhooks/stripe", summary="Stripe webhook (Stripe-Signature)", tags=["payments"])
@signed_by("Stripe")
def stripe_webhook() -> WebhookAck:
    return _receive(Provider.STRIPE)


@router.post("/webhooks/apple", summary="App Store Server Notifications V2 (signed JWS)", tags=["payments"])
@signed_by("Apple")
def apple_webhook() -> WebhookAck:
    return _receive(Provider.APPLE)


@router.post("/webhooks/google", summary="Google Play RTDN via Pub/Sub push (OIDC token)", tags=["payments"])
@signed_by("Google")
def google_webhook() -> WebhookAck:
    return _receive(Provider.GOOGLE)


app = build_resolver(router)
lambda_handler = lambda_entry(app)
