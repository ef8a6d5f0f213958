"""Stripe: webhook verification (the SDK's signature scheme) and the PaymentIntent / Refund API.

Signatures: ``Stripe-Signature: t=<ts>,v1=<hex>[,v1=<hex>...]``, HMAC-SHA256 of ``"{t}.{body}"``
with the endpoint's signing secret, checked by ``stripe.WebhookSignature.verify_header`` on the
body exactly as received. Several configured secrets are tried in turn (secret rotation); the
SDK accepts a header whose any v1 signature matches.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from orders import errors
from orders.adapters.payments.base import CreatedRefund
from orders.logic.ports import CreatedPayment
from orders.models.payment import PaymentEvent, PaymentEventKind, Provider, ProviderRefund

if TYPE_CHECKING:
    import stripe

# The API version every request is made with and every webhook endpoint must be created with
# (Dashboard → Webhooks → API version). It is the one stripe 16.1.0 was generated for: the
# SDK's objects and this parser agree on the shapes of that version. An event of another
# version is still parsed (its ``api_version`` is kept in the ledger), since the fields read
# here are stable across versions since 2022-11-15.
API_VERSION = "2026-10-28.endive"

_KINDS = {
    "payment_intent.succeeded": PaymentEventKind.SUCCEEDED,
    "payment_intent.payment_failed": PaymentEventKind.FAILED,
    # A PaymentIntent cancelled at Stripe (by us, by the Dashboard, or expired): it can no longer be paid.
    "payment_intent.canceled": PaymentEventKind.FAILED,
}
# Refunds are counted from the Refund objects Stripe sends since 2022-11-15, one refund id once.
_REFUND_EVENTS = frozenset({"refund.created", "refund.updated", "refund.failed"})
_DISPUTE_EVENTS = frozenset({"charge.dispute.created", "charge.dispute.closed"})
_REFUND_PENDING = frozenset({"pending", "requires_action"})
_REFUND_FAILED = frozenset({"failed", "canceled"})
_STALE = "Timestamp outside the tolerance zone"


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


class StripeWebhooks:
    provider = Provider.STRIPE

    def __init__(self, secrets: tuple[str, ...], tolerance_seconds: int = 300) -> None:
        self._secrets = secrets
        self._tolerance = tolerance_seconds

    def parse(self, headers: Mapping[str, str], body: bytes) -> PaymentEvent:
        self.verify(headers.get("stripe-signature"), body)
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise errors.InvalidJson() from exc
        return to_event(data)

    def verify(self, header: str | None, body: bytes) -> None:
        from stripe import SignatureVerificationError, WebhookSignature

        if not header:
            raise errors.WebhookSignatureMissing(header="Stripe-Signature")
        if not self._secrets:
            raise errors.WebhookNotConfigured(provider="stripe")
        try:
            payload = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise errors.WebhookSignatureInvalid() from exc
        stale = False
        for secret in self._secrets:
            try:
                WebhookSignature.verify_header(payload, header, secret, self._tolerance)
            except SignatureVerificationError as exc:
                # The SDK checks the timestamp only once a signature matched: stale means authentic but old.
                stale = stale or str(exc.user_message or exc).startswith(_STALE)
                continue
            return
        if stale:
            raise errors.WebhookTimestampStale(tolerance_seconds=self._tolerance)
        raise errors.WebhookSignatureInvalid()


def to_event(data: Any) -> PaymentEvent:
    """A verified Stripe event (JSON) → PaymentEvent."""
    try:
        event_id = data["id"]
        event_type = data["type"]
        obj = data["data"]["object"]
        if not isinstance(event_id, str) or not isinstance(event_type, str) or not isinstance(obj, dict):
            raise TypeError("unexpected types")
    except (KeyError, TypeError) as exc:
        raise errors.InvalidWebhookPayload(provider="stripe") from exc
    metadata = _dict(obj.get("metadata"))
    currency = _str(obj.get("currency"))
    references = {"event_type": event_type, "object": str(obj.get("object", "")), "object_id": str(obj.get("id", ""))}
    if _str(data.get("api_version")):
        references["api_version"] = str(data["api_version"])
    fields: dict[str, Any] = {
        "kind": _KINDS.get(event_type, PaymentEventKind.OTHER),
        "order_id": _str(metadata.get("order_id")),
        "amount": obj.get("amount"),
        "payment_reference": _str(obj.get("id")),
    }
    if event_type in ("payment_intent.payment_failed", "payment_intent.canceled"):
        error = _dict(obj.get("last_payment_error"))
        if _str(error.get("code")):
            references["failure_code"] = str(error["code"])
        if _str(obj.get("cancellation_reason")):
            references["cancellation_reason"] = str(obj["cancellation_reason"])
    elif event_type in _REFUND_EVENTS and obj.get("object") == "refund":
        fields.update(_refund(obj, references))
    elif event_type in _DISPUTE_EVENTS and obj.get("object") == "dispute":
        fields.update(_dispute(event_type, obj, references))
    elif event_type == "charge.refunded":
        # Since 2022-11-15 a Charge carries no refunds list, only the cumulative amount: the
        # refund.* events count each refund. Kept in the ledger for finance.
        fields.update(payment_reference=_str(obj.get("payment_intent")), amount=obj.get("amount_refunded"))
        references["charge"] = str(obj.get("id", ""))
    amount = fields.pop("amount")
    return PaymentEvent(
        provider=Provider.STRIPE,
        event_id=event_id,
        event_type=event_type,
        amount=amount if isinstance(amount, int) and amount >= 0 else None,
        currency=currency.upper() if currency and len(currency) == 3 else None,
        provider_references=references,
        livemode=data.get("livemode") if isinstance(data.get("livemode"), bool) else None,
        **fields,
    )


def _refund(obj: dict[str, Any], references: dict[str, str]) -> dict[str, Any]:
    """A Refund: counted once by its id when it has succeeded; pending and failed ones are noted."""
    metadata = _dict(obj.get("metadata"))
    status = str(obj.get("status") or "")
    references.update(refund_status=status, charge=str(obj.get("charge") or ""))
    fields: dict[str, Any] = {"payment_reference": _str(obj.get("payment_intent")), "kind": PaymentEventKind.OTHER}
    refund_id, amount = _str(obj.get("id")), obj.get("amount")
    if refund_id is None or not isinstance(amount, int) or amount < 0:
        return fields
    fields["refunds"] = [
        ProviderRefund(refund_id=refund_id, amount=amount, our_refund_id=_str(metadata.get("refund_id")))
    ]
    if status == "succeeded":
        fields["kind"] = PaymentEventKind.REFUNDED
    elif status in _REFUND_PENDING:
        fields.update(kind=PaymentEventKind.NOTICE, notice="PROVIDER_REFUND_PENDING")
    elif status in _REFUND_FAILED:
        fields.update(kind=PaymentEventKind.REFUND_FAILED, notice="PROVIDER_REFUND_FAILED")
        if _str(obj.get("failure_reason")):
            references["failure_reason"] = str(obj["failure_reason"])
    return fields


def _dispute(event_type: str, obj: dict[str, Any], references: dict[str, str]) -> dict[str, Any]:
    """A Dispute (chargeback). Opened: noted, ops alerted. Lost: the disputed amount is gone, counted as
    a provider refund (id ``dispute:<dispute id>``) so the order's refunded_total covers it. Won: noted."""
    status = str(obj.get("status") or "")
    references.update(
        dispute_status=status, dispute_reason=str(obj.get("reason") or ""), charge=str(obj.get("charge") or "")
    )
    fields: dict[str, Any] = {"payment_reference": _str(obj.get("payment_intent"))}
    if event_type == "charge.dispute.created":
        fields.update(kind=PaymentEventKind.DISPUTE_OPENED, notice="PAYMENT_DISPUTE_OPENED")
    elif status == "lost" and _str(obj.get("id")) and isinstance(obj.get("amount"), int):
        refund = ProviderRefund(refund_id=f"dispute:{obj['id']}", amount=obj["amount"])
        fields.update(kind=PaymentEventKind.REFUNDED, refunds=[refund])
    else:
        fields.update(kind=PaymentEventKind.NOTICE, notice="PAYMENT_DISPUTE_CLOSED")
    return fields


class StripePayments:
    """PaymentIntents and refunds through the stripe SDK (``api_base``: a fake Stripe, locally)."""

    provider = Provider.STRIPE

    def __init__(self, api_key: str, api_base: str | None = None) -> None:
        self._api_key = api_key
        self._api_base = api_base
        self._client: stripe.StripeClient | None = None

    @property
    def client(self) -> stripe.StripeClient:
        if self._client is None:
            import stripe

            if not self._api_key:
                raise errors.ProviderUnavailable(provider="stripe", reason="not configured")
            base: Any = {"api": self._api_base} if self._api_base else None
            self._client = stripe.StripeClient(
                self._api_key, base_addresses=base, max_network_retries=2, stripe_version=API_VERSION
            )
        return self._client

    def create_payment(self, order_id: str, amount: int, currency: str, *, idempotency_key: str) -> CreatedPayment:
        intent = self._call(
            lambda: self.client.v1.payment_intents.create(
                params={
                    "amount": amount,
                    "currency": currency.lower(),
                    "metadata": {"order_id": order_id},
                    "automatic_payment_methods": {"enabled": True},
                },
                options={"idempotency_key": idempotency_key},
            )
        )
        return _payment(intent.to_dict())

    def get_payment(self, reference: str) -> CreatedPayment:
        return _payment(self._call(lambda: self.client.v1.payment_intents.retrieve(reference)).to_dict())

    def cancel_payment(self, reference: str) -> CreatedPayment:
        try:
            intent = self._call(lambda: self.client.v1.payment_intents.cancel(reference))
        except errors.ProviderRefused as exc:
            # Stripe refuses to cancel an intent that succeeded, is processing or is cancelled already
            # (payment_intent_unexpected_state): report its state instead.
            if exc.details.get("stripe_code") != "payment_intent_unexpected_state":
                raise
            return self.get_payment(reference)
        return _payment(intent.to_dict())

    def refund(
        self,
        payment_reference: str,
        amount: int,
        currency: str,
        *,
        idempotency_key: str,
        metadata: Mapping[str, str],
    ) -> CreatedRefund:
        refund = self._call(
            lambda: self.client.v1.refunds.create(
                params={"payment_intent": payment_reference, "amount": amount, "metadata": dict(metadata)},
                options={"idempotency_key": idempotency_key},
            )
        ).to_dict()  # SDK objects are not dicts: convert at the boundary
        return CreatedRefund(
            refund_id=str(refund["id"]),
            status=str(refund.get("status", "")),
            amount=int(refund.get("amount", amount)),
            currency=str(refund.get("currency", currency)).upper(),
            raw=refund,
        )

    @staticmethod
    def _call(func: Any) -> Any:
        import stripe

        try:
            return func()
        except stripe.StripeError as exc:
            status = exc.http_status or 0
            if 400 <= status < 500 and status != 429:
                # Stripe refused the request itself (amount over its maximum, bad currency...): not an outage.
                raise errors.ProviderRefused(
                    provider="stripe", stripe_code=str(exc.code or ""), http_status=status
                ) from exc
            raise errors.ProviderUnavailable(
                provider="stripe", stripe_code=str(exc.code or ""), http_status=exc.http_status or 0
            ) from exc


def _payment(intent: Mapping[str, Any]) -> CreatedPayment:
    return CreatedPayment(
        reference=str(intent["id"]),
        client_secret=intent.get("client_secret"),
        status=str(intent.get("status", "")),
        amount=int(intent["amount"]),
        currency=str(intent["currency"]).upper(),
    )
