"""Google Play Real-time Developer Notifications, delivered by a Pub/Sub push subscription.

Authenticity: the push request carries ``Authorization: Bearer <OIDC token>`` signed by Google
for the subscription's service account. google-auth verifies the signature against Google's
certificates, the expiry and the audience; the issuer and the service-account email are then
checked here. The RTDN itself names a purchase token, not our order nor a price: those come
from the purchase at the Play Developer API (:class:`PlayPurchases`), where the order id
travels as ``obfuscatedExternalAccountId`` (see tokens).
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from orders import errors
from orders.models.payment import PaymentEvent, PaymentEventKind, Provider, ProviderRefund
from orders.payments.money import from_micros
from orders.payments.tokens import order_id_from_token

if TYPE_CHECKING:
    from orders.config import Config

ISSUERS = frozenset({"accounts.google.com", "https://accounts.google.com"})
_CERTS_TTL_SECONDS = 3600

# subscriptionNotification.notificationType
_SUB_RECOVERED, _SUB_RENEWED, _SUB_PURCHASED, _SUB_RESTARTED = 1, 2, 4, 7
# oneTimeProductNotification.notificationType
_OTP_PURCHASED, _OTP_CANCELED = 1, 2


@dataclass(frozen=True)
class PlayPurchase:
    order_id: str | None  # ours, from obfuscatedExternalAccountId
    google_order_id: str | None
    amount: int | None  # minor units
    currency: str | None
    expires_at: datetime | None = None


class PlayPurchases(Protocol):
    def lookup(self, package: str, kind: str, product_id: str, token: str) -> PlayPurchase: ...


class HttpPlayPurchases:
    """The Play Developer API (v3 purchases.products / purchases.subscriptions) over HTTPS."""

    def __init__(self, base_url: str, session: Any = None) -> None:
        self._base = base_url.rstrip("/")
        self._session = session

    def _get(self, path: str) -> dict[str, Any]:
        import requests

        session = self._session or requests.Session()
        try:
            response = session.get(f"{self._base}{path}", timeout=5)
        except requests.RequestException as exc:
            raise errors.ProviderUnavailable(provider="google") from exc
        if response.status_code != 200:
            raise errors.ProviderUnavailable(provider="google", http_status=response.status_code)
        data: dict[str, Any] = response.json()
        return data

    def lookup(self, package: str, kind: str, product_id: str, token: str) -> PlayPurchase:
        base = f"/androidpublisher/v3/applications/{package}/purchases/{kind}/{product_id}/tokens/{token}"
        data = self._get(base)
        currency = data.get("priceCurrencyCode")
        micros = data.get("priceAmountMicros")
        amount = from_micros(int(micros), currency) if micros is not None and currency else None
        expiry = data.get("expiryTimeMillis")
        return PlayPurchase(
            order_id=order_id_from_token(data.get("obfuscatedExternalAccountId")),
            google_order_id=data.get("orderId"),
            amount=amount,
            currency=currency,
            expires_at=datetime.fromtimestamp(int(expiry) / 1000, tz=UTC) if expiry else None,
        )


class _CachingRequest:
    """A google-auth transport that keeps the certificates response for an hour (warm invocations)."""

    def __init__(self) -> None:
        from google.auth.transport.requests import Request

        self._inner = Request()
        self._cache: dict[str, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def __call__(self, url: str, method: str = "GET", **kwargs: Any) -> Any:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(url)
            if method == "GET" and hit and now - hit[0] < _CERTS_TTL_SECONDS:
                return hit[1]
        response = self._inner(url, method=method, **kwargs)
        if method == "GET" and response.status == 200:
            with self._lock:
                self._cache[url] = (now, response)
        return response


class GoogleWebhooks:
    provider = Provider.GOOGLE

    def __init__(
        self,
        *,
        audience: str,
        service_account: str,
        package_name: str,
        certs_url: str,
        purchases: PlayPurchases,
        transport: Any = None,
    ) -> None:
        self._audience = audience
        self._service_account = service_account
        self._package = package_name
        self._certs_url = certs_url
        self._purchases = purchases
        self._transport = transport

    @classmethod
    def from_config(cls, config: Config) -> GoogleWebhooks:
        return cls(
            audience=config.google_pubsub_audience,
            service_account=config.google_pubsub_service_account,
            package_name=config.google_package_name,
            certs_url=config.google_oidc_certs_url,
            purchases=HttpPlayPurchases(config.google_play_api_base),
        )

    def verify(self, authorization: str | None) -> Mapping[str, Any]:
        from google.auth import exceptions
        from google.oauth2 import id_token

        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise errors.WebhookSignatureMissing(header="Authorization")
        if not self._audience or not self._service_account:
            raise errors.WebhookNotConfigured(provider="google")
        if self._transport is None:
            self._transport = _CachingRequest()
        try:
            claims = id_token.verify_token(
                token.strip(), self._transport, audience=self._audience, certs_url=self._certs_url
            )
        except exceptions.TransportError as exc:
            raise errors.ProviderUnavailable(provider="google") from exc
        except (ValueError, exceptions.GoogleAuthError) as exc:
            if "expired" in str(exc).lower():
                raise errors.WebhookTimestampStale() from exc
            raise errors.WebhookSignatureInvalid() from exc
        if claims.get("iss") not in ISSUERS:
            raise errors.WebhookSignatureInvalid(reason="issuer")
        if claims.get("email") != self._service_account or claims.get("email_verified") is not True:
            raise errors.WebhookSignatureInvalid(reason="service account")
        return claims

    def parse(self, headers: Mapping[str, str], body: bytes) -> PaymentEvent:
        self.verify(headers.get("authorization"))
        try:
            envelope = json.loads(body)
            message = envelope["message"]
            message_id = message.get("messageId") or message["message_id"]
            data = json.loads(base64.b64decode(message.get("data", ""), validate=True) or b"{}")
        except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
            raise errors.InvalidJson() from exc
        if not isinstance(data, dict) or not isinstance(message_id, str):
            raise errors.InvalidWebhookPayload(provider="google")
        return self._to_event(message_id, data)

    def _to_event(self, message_id: str, data: dict[str, Any]) -> PaymentEvent:
        def other(event_type: str) -> PaymentEvent:
            return PaymentEvent(
                provider=Provider.GOOGLE, event_id=message_id, event_type=event_type, kind=PaymentEventKind.OTHER
            )

        if data.get("packageName") != self._package:
            return other("foreignPackage")
        kind: PaymentEventKind
        if isinstance(otp := data.get("oneTimeProductNotification"), dict):
            ntype = int(otp.get("notificationType") or 0)
            event_type = f"oneTimeProductNotification/{ntype}"
            kind = {_OTP_PURCHASED: PaymentEventKind.SUCCEEDED, _OTP_CANCELED: PaymentEventKind.FAILED}.get(
                ntype, PaymentEventKind.OTHER
            )
            api_kind, product, token = "products", otp.get("sku"), otp.get("purchaseToken")
        elif isinstance(sub := data.get("subscriptionNotification"), dict):
            ntype = int(sub.get("notificationType") or 0)
            event_type = f"subscriptionNotification/{ntype}"
            kind = {
                _SUB_PURCHASED: PaymentEventKind.SUCCEEDED,
                _SUB_RENEWED: PaymentEventKind.RENEWED,
                _SUB_RECOVERED: PaymentEventKind.RENEWED,
                _SUB_RESTARTED: PaymentEventKind.RENEWED,
            }.get(ntype, PaymentEventKind.OTHER)
            api_kind, product, token = "subscriptions", sub.get("subscriptionId"), sub.get("purchaseToken")
        elif isinstance(voided := data.get("voidedPurchaseNotification"), dict):
            event_type = "voidedPurchaseNotification"
            kind = PaymentEventKind.REFUNDED
            api_kind = "subscriptions" if voided.get("productType") == 1 else "products"
            product, token = voided.get("productId") or voided.get("sku"), voided.get("purchaseToken")
        else:
            return other("testNotification" if "testNotification" in data else "unknown")
        if not isinstance(token, str) or not token:
            raise errors.InvalidWebhookPayload(provider="google")
        purchase = self._purchases.lookup(self._package, api_kind, str(product or ""), token)
        refunds = []
        if kind is PaymentEventKind.REFUNDED and purchase.amount is not None:
            voided_order = (voided or {}).get("orderId") or purchase.google_order_id or token
            refunds.append(ProviderRefund(refund_id=f"voided:{voided_order}", amount=purchase.amount))
        references = {"purchase_token": token, "product_id": str(product or ""), "api": api_kind}
        if purchase.google_order_id:
            references["google_order_id"] = purchase.google_order_id
        return PaymentEvent(
            provider=Provider.GOOGLE,
            event_id=message_id,
            event_type=event_type,
            kind=kind,
            order_id=purchase.order_id,
            amount=purchase.amount,
            currency=purchase.currency,
            payment_reference=token,
            provider_references=references,
            refunds=refunds,
            subscription_expires_at=purchase.expires_at,
        )
