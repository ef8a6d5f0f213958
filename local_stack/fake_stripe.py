"""A local fake of the Stripe API that the stripe SDK can talk to, and that sends signed webhooks.

Point the SDK at it with its API base (``STRIPE_API_BASE``). It keeps payment intents,
charges, refunds and disputes in memory and implements what the product uses: create /
retrieve / confirm / cancel a payment intent, create / retrieve a refund, update a dispute
with evidence, with Stripe's form-encoded bodies, Bearer key, Idempotency-Key and error JSON.
Outcomes follow Stripe's test payment methods: ``pm_card_visa`` succeeds,
``pm_card_chargeDeclined`` is declined (HTTP 402 ``card_error``, as Stripe answers),
``pm_card_createDispute`` succeeds and is then disputed; dispute evidence
``winning_evidence`` / ``losing_evidence`` closes it won / lost.

Every object is shaped from Stripe's own fixtures (``tests/contract/stripe/fixtures.json``,
from the public stripe/openapi repository) and validated against the spec's schemas by
tests/integration/test_stripe_contract.py. As Stripe's API since 2022-11-15: a Charge carries no
``refunds`` list and webhook objects are never expanded; refunds are sent as ``refund.created``
(and ``charge.refunded`` with the cumulative ``amount_refunded``). Every state change sends
the matching Stripe event to the webhook URL, signed like Stripe (``Stripe-Signature:
t=...,v1=...``), from a background thread with retries.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import logging
import queue
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests

from local_stack.apigw import PortInUse
from local_stack.fake_http import JsonApiHandler

log = logging.getLogger("local_stack.stripe")

# LOCAL ONLY, NOT SECRETS: fixed test values the local stack gives every function.
LOCAL_API_KEY = "sk_test_local_only_not_a_secret"
LOCAL_WEBHOOK_SECRET = "whsec_local_only_not_a_secret"  # noqa: S105 - local only, published
# the version stripe 16.1.0 sends (orders.adapters.payments.stripe_adapter.API_VERSION)
API_VERSION = "2026-10-28.endive"
DECLINING_METHODS = {"pm_card_chargeDeclined": ("card_declined", "generic_decline", "Your card was declined.")}
DISPUTED_METHODS = {"pm_card_createDispute"}
SUCCEEDING_METHODS = {"pm_card_visa", "pm_card_mastercard", "pm_card_amex", *DISPUTED_METHODS}
FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "contract" / "stripe" / "fixtures.json"
# Fields of the fixtures that a PaymentIntent-made object of the current API does not carry.
_NOT_RETURNED = {"charge": ("refunds", "source")}


@cache
def _fixtures() -> dict[str, Any]:
    resources: dict[str, Any] = json.loads(FIXTURES.read_text())["resources"]
    return resources


def shaped(resource: str, **fields: Any) -> dict[str, Any]:
    """Stripe's fixture of ``resource`` with ``fields`` set: every field Stripe returns, Stripe's types."""
    obj: dict[str, Any] = copy.deepcopy(_fixtures()[resource])
    for name in _NOT_RETURNED.get(resource, ()):
        obj.pop(name, None)
    obj.update(fields)
    return obj


RETRY_DELAYS_SECONDS = (0.2, 0.5, 1.0)


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def sign(payload: str, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header value for ``payload``: HMAC-SHA256 of ``"{t}.{payload}"``."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def parse_form(body: str) -> dict[str, Any]:
    """Stripe's form encoding (``metadata[order_id]=x``, ``expand[0]=y``) → nested dicts and lists."""
    result: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = key.replace("]", "").split("[")
        node = result
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _lists(result)  # type: ignore[no-any-return]


def _lists(node: Any) -> Any:
    if isinstance(node, dict):
        converted = {k: _lists(v) for k, v in node.items()}
        if converted and all(k.isdigit() for k in converted):
            return [converted[k] for k in sorted(converted, key=int)]
        return converted
    return node


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class StripeError(Exception):
    def __init__(self, status: int, type_: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"error": {"type": type_, "message": message, **extra}}


@dataclass
class Delivery:
    event: dict[str, Any]
    status: int | None = None
    attempts: int = 0


@dataclass
class FakeStripe:
    """State and behaviour; :class:`FakeStripeServer` serves it over HTTP."""

    webhook_url: str | None = None
    api_key: str = LOCAL_API_KEY
    webhook_secret: str = LOCAL_WEBHOOK_SECRET
    intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    charges: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    disputes: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    _idempotent: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _outbox: queue.Queue[Delivery | None] = field(default_factory=queue.Queue)
    _pending: int = 0

    # --- requests ------------------------------------------------------------------------------
    def request(self, method: str, path: str, headers: Mapping[str, str], body: str) -> tuple[int, dict[str, Any]]:
        """Answer one API request: (HTTP status, JSON body)."""
        lowered = {k.lower(): v for k, v in headers.items()}
        if lowered.get("authorization") != f"Bearer {self.api_key}":
            return 401, StripeError(401, "invalid_request_error", "Invalid API Key provided.").body
        params = parse_form(body) if method == "POST" else parse_form(urlsplit(path).query)
        key = lowered.get("idempotency-key")
        with self._lock:
            if key and method == "POST" and key in self._idempotent:
                return self._idempotent[key]
            try:
                answer = 200, self._route(method, urlsplit(path).path, params)
            except StripeError as exc:
                answer = exc.status, exc.body
            if key and method == "POST":
                self._idempotent[key] = answer
            return answer

    def _route(self, method: str, path: str, params: dict[str, Any]) -> dict[str, Any]:
        parts = path.strip("/").split("/")
        if parts[:2] == ["v1", "payment_intents"]:
            if method == "POST" and len(parts) == 2:
                return self.create_intent(params)
            if method == "GET" and len(parts) == 3:
                return self._intent(parts[2])
            if method == "POST" and len(parts) == 4 and parts[3] == "confirm":
                return self.confirm_intent(parts[2], params)
            if method == "POST" and len(parts) == 4 and parts[3] == "cancel":
                return self.cancel_intent(parts[2], params)
        if parts[:2] == ["v1", "disputes"] and len(parts) == 3:
            if method == "POST":
                return self.update_dispute(parts[2], params)
            if method == "GET" and parts[2] in self.disputes:
                return self.disputes[parts[2]]
        if parts[:2] == ["v1", "refunds"]:
            if method == "POST" and len(parts) == 2:
                return self.create_refund(params)
            if method == "GET" and len(parts) == 3:
                if parts[2] not in self.refunds:
                    raise StripeError(
                        404, "invalid_request_error", f"No such refund: '{parts[2]}'", code="resource_missing"
                    )
                return self.refunds[parts[2]]
        raise StripeError(404, "invalid_request_error", f"Unrecognized request URL ({method}: {path}).")

    def _intent(self, intent_id: str) -> dict[str, Any]:
        if intent_id not in self.intents:
            raise StripeError(
                404,
                "invalid_request_error",
                f"No such payment_intent: '{intent_id}'",
                code="resource_missing",
                param="id",
            )
        return self.intents[intent_id]

    def create_intent(self, params: dict[str, Any]) -> dict[str, Any]:
        for name in ("amount", "currency"):
            if name not in params:
                raise StripeError(
                    400,
                    "invalid_request_error",
                    f"Missing required param: {name}.",
                    code="parameter_missing",
                    param=name,
                )
        try:
            amount = int(params["amount"])
        except ValueError:
            raise StripeError(400, "invalid_request_error", "Invalid integer: amount", param="amount") from None
        if amount < 1:
            raise StripeError(400, "invalid_request_error", "Amount must be at least 1.", param="amount")
        intent_id = new_id("pi")
        intent = shaped(
            "payment_intent",
            id=intent_id,
            amount=amount,
            amount_capturable=0,
            amount_received=0,
            currency=str(params["currency"]).lower(),
            status="requires_payment_method",
            client_secret=f"{intent_id}_secret_{secrets.token_hex(8)}",
            metadata=dict(params.get("metadata") or {}),
            payment_method=None,
            latest_charge=None,
            last_payment_error=None,
            next_action=None,
            processing=None,
            canceled_at=None,
            cancellation_reason=None,
            customer=None,
            description=None,
            created=int(time.time()),
            livemode=False,
        )
        self.intents[intent_id] = intent
        if params.get("payment_method"):
            intent["payment_method"] = params["payment_method"]
            intent["status"] = "requires_confirmation"
        if str(params.get("confirm", "")).lower() == "true":
            return self.confirm_intent(intent_id, params)
        return intent

    def confirm_intent(self, intent_id: str, params: dict[str, Any]) -> dict[str, Any]:
        intent = self._intent(intent_id)
        if intent["status"] in ("succeeded", "canceled"):
            raise StripeError(
                400,
                "invalid_request_error",
                f"This PaymentIntent's status is {intent['status']}, so it cannot be confirmed.",
                code="payment_intent_unexpected_state",
            )
        method = params.get("payment_method") or intent.get("payment_method")
        if not method:
            raise StripeError(
                400, "invalid_request_error", "Missing required param: payment_method.", code="parameter_missing"
            )
        intent["payment_method"] = method
        if method in DECLINING_METHODS:
            code, decline_code, message = DECLINING_METHODS[method]
            error = {"type": "card_error", "code": code, "decline_code": decline_code, "message": message}
            intent.update(status="requires_payment_method", last_payment_error=error)
            self.emit("payment_intent.payment_failed", intent)
            raise StripeError(402, "card_error", message, code=code, decline_code=decline_code, payment_intent=intent)
        if method not in SUCCEEDING_METHODS:
            raise StripeError(
                400, "invalid_request_error", f"No such PaymentMethod: '{method}'", code="resource_missing"
            )
        charge_id = new_id("ch")
        charge = shaped(
            "charge",
            id=charge_id,
            amount=intent["amount"],
            amount_captured=intent["amount"],
            amount_refunded=0,
            currency=intent["currency"],
            payment_intent=intent_id,
            payment_method=method,
            metadata=dict(intent["metadata"]),
            captured=True,
            disputed=False,
            paid=True,
            refunded=False,
            status="succeeded",
            created=int(time.time()),
            livemode=False,
        )
        self.charges[charge_id] = charge
        intent.update(
            status="succeeded", amount_received=intent["amount"], latest_charge=charge_id, last_payment_error=None
        )
        self.emit("payment_intent.succeeded", intent)
        if method in DISPUTED_METHODS:
            self.open_dispute(charge)
        return intent

    def cancel_intent(self, intent_id: str, params: dict[str, Any]) -> dict[str, Any]:
        """Stripe cancels an intent that has not succeeded, is not processing and is not cancelled already."""
        intent = self._intent(intent_id)
        if intent["status"] in ("succeeded", "processing", "canceled"):
            raise StripeError(
                400,
                "invalid_request_error",
                f"You cannot cancel this PaymentIntent because it has a status of {intent['status']}.",
                code="payment_intent_unexpected_state",
            )
        intent.update(
            status="canceled",
            canceled_at=int(time.time()),
            cancellation_reason=params.get("cancellation_reason") or "requested_by_customer",
        )
        self.emit("payment_intent.canceled", intent)
        return intent

    def open_dispute(self, charge: dict[str, Any]) -> dict[str, Any]:
        """The cardholder disputes the whole charge (Stripe's ``pm_card_createDispute``)."""
        dispute_id = new_id("dp")
        dispute = shaped(
            "dispute",
            id=dispute_id,
            amount=charge["amount"],
            charge=charge["id"],
            payment_intent=charge["payment_intent"],
            currency=charge["currency"],
            status="needs_response",
            reason="fraudulent",
            is_charge_refundable=False,
            metadata={},
            created=int(time.time()),
            livemode=False,
        )
        self.disputes[dispute_id] = dispute
        charge["disputed"] = True
        self.emit("charge.dispute.created", dispute)
        return dispute

    def update_dispute(self, dispute_id: str, params: dict[str, Any]) -> dict[str, Any]:
        """Submitting evidence: Stripe's test evidence ``winning_evidence`` / ``losing_evidence`` closes it."""
        if dispute_id not in self.disputes:
            raise StripeError(404, "invalid_request_error", f"No such dispute: '{dispute_id}'", code="resource_missing")
        dispute = self.disputes[dispute_id]
        text = str(_dict(params.get("evidence")).get("uncategorized_text", ""))
        outcome = {"winning_evidence": "won", "losing_evidence": "lost"}.get(text)
        if outcome is None:
            dispute["status"] = "under_review"
            self.emit("charge.dispute.updated", dispute)
            return dispute
        dispute["status"] = outcome
        self.emit("charge.dispute.closed", dispute)
        return dispute

    def create_refund(self, params: dict[str, Any]) -> dict[str, Any]:
        intent = self._intent(str(params.get("payment_intent", "")))
        if intent["status"] != "succeeded":
            raise StripeError(400, "invalid_request_error", "This PaymentIntent has no successful charge to refund.")
        charge = self.charges[intent["latest_charge"]]
        remaining = charge["amount"] - charge["amount_refunded"]
        amount = int(params.get("amount", remaining))
        if remaining == 0:
            raise StripeError(
                400,
                "invalid_request_error",
                f"Charge {charge['id']} has already been refunded.",
                code="charge_already_refunded",
            )
        if amount < 1 or amount > remaining:
            raise StripeError(
                400,
                "invalid_request_error",
                f"Refund amount ({amount}) is greater than unrefunded amount on charge ({remaining}).",
                param="amount",
            )
        refund_id = new_id("re")
        refund = shaped(
            "refund",
            id=refund_id,
            amount=amount,
            currency=charge["currency"],
            charge=charge["id"],
            payment_intent=intent["id"],
            payment_method=charge.get("payment_method"),
            metadata=dict(params.get("metadata") or {}),
            reason=params.get("reason"),
            status="succeeded",
            created=int(time.time()),
        )
        self.refunds[refund_id] = refund
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        # Stripe today: the refund is its own event; charge.refunded carries only the cumulative amount.
        self.emit("refund.created", refund)
        self.emit("charge.refunded", charge)
        return refund

    # --- webhooks ------------------------------------------------------------------------------
    def emit(self, event_type: str, obj: dict[str, Any]) -> dict[str, Any]:
        """Record a Stripe event for ``obj`` and queue its signed delivery to the webhook URL."""
        event = shaped(
            "event",
            id=new_id("evt"),
            type=event_type,
            created=int(time.time()),
            api_version=API_VERSION,
            livemode=False,
            pending_webhooks=1,
            request={"id": None, "idempotency_key": None},
            data={"object": json.loads(json.dumps(obj))},
        )
        self.events.append(event)
        if self.webhook_url:
            delivery = Delivery(event)
            with self._lock:
                self.deliveries.append(delivery)
                self._pending += 1
            self._outbox.put(delivery)
        return event

    def deliver(self, delivery: Delivery, post: Callable[..., Any] = requests.post) -> None:
        """POST one event, signed; retry a few times on a non-2xx answer or a connection error."""
        payload = json.dumps(delivery.event)
        for delay in (0.0, *RETRY_DELAYS_SECONDS):
            time.sleep(delay)
            delivery.attempts += 1
            headers = {"Content-Type": "application/json", "Stripe-Signature": sign(payload, self.webhook_secret)}
            try:
                delivery.status = post(self.webhook_url, data=payload, headers=headers, timeout=10).status_code
            except requests.RequestException as exc:
                delivery.status = None
                log.warning(
                    "webhook %s %s: attempt %d failed: %s",
                    delivery.event["type"],
                    delivery.event["id"],
                    delivery.attempts,
                    exc,
                )
                continue
            log.info(
                "webhook %s %s -> %s (attempt %d)",
                delivery.event["type"],
                delivery.event["id"],
                delivery.status,
                delivery.attempts,
            )
            if delivery.status is not None and 200 <= delivery.status < 300:
                return

    def run_deliveries(self) -> None:
        while (delivery := self._outbox.get()) is not None:
            try:
                self.deliver(delivery)
            finally:
                with self._lock:
                    self._pending -= 1

    def stop_deliveries(self) -> None:
        self._outbox.put(None)

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Until every queued delivery has been tried (tests and the demo)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self._pending:
                return
            time.sleep(0.02)


class FakeStripeServer:
    """Serves a :class:`FakeStripe` on loopback; webhooks go out from a background thread."""

    def __init__(self, fake: FakeStripe, host: str = "127.0.0.1", port: int = 0) -> None:
        self.fake = fake
        self.host = host

        class Handler(_StripeHandler):
            stripe = fake

        try:
            self.server = ThreadingHTTPServer((host, port), Handler)
        except OSError as exc:
            if exc.errno in (98, 48):
                raise PortInUse(host, port, "fake payment provider") from exc
            raise
        self.server.daemon_threads = True
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.server.server_address[1]}"

    def start(self) -> None:
        self._threads = [
            threading.Thread(target=self.server.serve_forever, name="fake-stripe", daemon=True),
            threading.Thread(target=self.fake.run_deliveries, name="fake-stripe-webhooks", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self.fake.stop_deliveries()
        if self._threads:
            self.server.shutdown()
            for thread in self._threads:
                thread.join(timeout=5)
        self.server.server_close()


class _StripeHandler(JsonApiHandler):
    stripe: FakeStripe
    log = log

    def answer(self, method: str, path: str, headers: dict[str, str], body: str) -> tuple[int, Any]:
        return self.stripe.request(method, path, headers, body)

    def extra_headers(self) -> dict[str, str]:
        return {"Request-Id": new_id("req")}

    do_GET = do_POST = do_DELETE = JsonApiHandler.serve
