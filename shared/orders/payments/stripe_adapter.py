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
from orders.models.payment import PaymentEvent, PaymentEventKind, Provider, ProviderRefund
from orders.payments.base import CreatedPayment, CreatedRefund

if TYPE_CHECKING:
    import stripe

_KINDS = {
    "payment_intent.succeeded": PaymentEventKind.SUCCEEDED,
    "payment_intent.payment_failed": PaymentEventKind.FAILED,
    "charge.refunded": PaymentEventKind.REFUNDED,
}
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
    kind = _KINDS.get(event_type, PaymentEventKind.OTHER)
    metadata = _dict(obj.get("metadata"))
    currency = _str(obj.get("currency"))
    references = {"event_type": event_type, "object": str(obj.get("object", "")), "object_id": str(obj.get("id", ""))}
    order_id = _str(metadata.get("order_id"))
    amount: Any = obj.get("amount")
    payment_reference = _str(obj.get("id"))
    refunds: list[ProviderRefund] = []
    if kind is PaymentEventKind.FAILED:
        error = _dict(obj.get("last_payment_error"))
        if _str(error.get("code")):
            references["failure_code"] = str(error["code"])
    if kind is PaymentEventKind.REFUNDED:
        # A charge: amount_refunded is cumulative; each refund is counted by its own id.
        payment_reference = _str(obj.get("payment_intent")) or payment_reference
        amount = obj.get("amount_refunded")
        references["charge"] = str(obj.get("id", ""))
        listed = obj.get("refunds")
        for refund in listed.get("data", []) if isinstance(listed, dict) else []:
            if not isinstance(refund, dict) or not _str(refund.get("id")) or not isinstance(refund.get("amount"), int):
                continue
            refund_meta = _dict(refund.get("metadata"))
            order_id = order_id or _str(refund_meta.get("order_id"))
            refunds.append(
                ProviderRefund(
                    refund_id=refund["id"], amount=refund["amount"], our_refund_id=_str(refund_meta.get("refund_id"))
                )
            )
    return PaymentEvent(
        provider=Provider.STRIPE,
        event_id=event_id,
        event_type=event_type,
        kind=kind,
        order_id=order_id,
        amount=amount if isinstance(amount, int) and amount >= 0 else None,
        currency=currency.upper() if currency and len(currency) == 3 else None,
        payment_reference=payment_reference,
        provider_references=references,
        refunds=refunds,
        livemode=data.get("livemode") if isinstance(data.get("livemode"), bool) else None,
    )


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
            self._client = stripe.StripeClient(self._api_key, base_addresses=base, max_network_retries=2)
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
