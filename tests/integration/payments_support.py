"""Helpers for the payment tests: orders to pay, signed provider notifications, ledger reads."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import uuid
from typing import Any

from tests.conftest import api_event
from tests.integration.conftest import Api, HttpResult

USER = "user-pay-0001"
# Made per test run; never a real secret.
STRIPE_SECRET = "whsec_test_" + secrets.token_hex(16)
STRIPE_OLD_SECRET = "whsec_test_old_" + secrets.token_hex(16)


def create_order(api: Api, sku: str = "coins-500", quantity: int = 1, user: str = USER) -> dict[str, Any]:
    result = api(api_event("create_order", user=user, body={"items": [{"sku": sku, "quantity": quantity}]}))
    assert result.status == 201, result.body
    order: dict[str, Any] = result.body
    return order


def get_order(api: Api, order_id: str, user: str = USER) -> dict[str, Any]:
    result = api(api_event("orders_get_order", user=user, path_params={"order_id": order_id}))
    assert result.status == 200, result.body
    order: dict[str, Any] = result.body
    return order


def timeline(api: Api, order_id: str, user: str = USER) -> list[dict[str, Any]]:
    result = api(api_event("orders_get_timeline", user=user, path_params={"order_id": order_id}))
    assert result.status == 200, result.body
    items: list[dict[str, Any]] = result.body["items"]
    return items


def ledger(api: Api, order_id: str, user: str = USER, groups: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    result = api(api_event("payments_list_payments", user=user, groups=groups, path_params={"order_id": order_id}))
    assert result.status == 200, result.body
    items: list[dict[str, Any]] = result.body["items"]
    return items


# --- Stripe ------------------------------------------------------------------------------------
def stripe_signature(payload: str, secret: str = STRIPE_SECRET, timestamp: int | None = None) -> str:
    """Stripe's scheme, computed here independently of the SDK: t=<ts>,v1=HMAC-SHA256("<ts>.<body>")."""
    ts = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{ts}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


def stripe_event(
    order_id: str | None,
    event_type: str = "payment_intent.succeeded",
    *,
    amount: int = 499,
    currency: str = "usd",
    event_id: str | None = None,
    intent_id: str = "pi_test_0001",
) -> dict[str, Any]:
    metadata = {"order_id": order_id} if order_id else {}
    obj: dict[str, Any] = {
        "id": intent_id,
        "object": "payment_intent",
        "amount": amount,
        "currency": currency,
        "metadata": metadata,
        "status": "succeeded" if event_type.endswith("succeeded") else "requires_payment_method",
    }
    if event_type == "payment_intent.payment_failed":
        obj["last_payment_error"] = {"code": "card_declined"}
    return {
        "id": event_id or f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "type": event_type,
        "livemode": False,
        "created": int(time.time()),
        "data": {"object": obj},
    }


def stripe_refund_event(
    order_id: str | None,
    refund_id: str,
    amount: int,
    *,
    status: str = "succeeded",
    our_refund_id: str | None = None,
    event_type: str = "refund.created",
    event_id: str | None = None,
    intent_id: str = "pi_test_0001",
) -> dict[str, Any]:
    """A ``refund.*`` event as Stripe sends it today, shaped from Stripe's own fixtures."""
    from tests.contract.stripe.contract import event, fixture

    metadata = {"order_id": order_id} if order_id else {}
    if our_refund_id:
        metadata["refund_id"] = our_refund_id
    refund = fixture("refund", id=refund_id, amount=amount, status=status, payment_intent=intent_id, metadata=metadata)
    return event(event_type, refund, id=event_id or f"evt_{uuid.uuid4().hex[:24]}", created=int(time.time()))


def stripe_dispute_event(
    dispute_id: str, amount: int, *, status: str, event_type: str, intent_id: str = "pi_test_0001"
) -> dict[str, Any]:
    """A ``charge.dispute.*`` event shaped from Stripe's fixtures (a Dispute carries no order metadata)."""
    from tests.contract.stripe.contract import event, fixture

    dispute = fixture("dispute", id=dispute_id, amount=amount, status=status, payment_intent=intent_id)
    return event(event_type, dispute, id=f"evt_{uuid.uuid4().hex[:24]}", created=int(time.time()))


def webhook_event(provider: str, raw_body: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    event = api_event(f"payment_webhook_{provider}_webhook", raw_body=raw_body)
    for name in ("Stripe-Signature", "Authorization"):
        event["headers"].pop(name, None)
        event["multiValueHeaders"].pop(name, None)
    for key, value in (headers or {}).items():
        event["headers"][key] = value
        event["multiValueHeaders"][key] = [value]
    return event


def post_stripe(api: Api, body: dict[str, Any] | str, **sign: Any) -> HttpResult:
    raw = body if isinstance(body, str) else json.dumps(body)
    return api(webhook_event("stripe", raw, {"Stripe-Signature": stripe_signature(raw, **sign)}))
