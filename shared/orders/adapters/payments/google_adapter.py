"""Google Play Real-time Developer Notifications, delivered by a Pub/Sub push subscription.

Authenticity: the push request carries ``Authorization: Bearer <OIDC token>`` signed by Google
for the subscription's service account. google-auth verifies the signature against Google's
certificates, the expiry and the audience; the issuer and the service-account email are then
checked here. The RTDN itself names a purchase token, not our order nor a price: those come
from the purchase at the Play Developer API (:class:`PlayPurchases`), where the order id
travels as ``obfuscatedExternalAccountId`` (see orders.models.payment.account_token).
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
from orders.adapters.payments.money import from_micros
from orders.models.payment import PaymentEvent, PaymentEventKind, Provider, ProviderRefund, order_id_from_token

if TYPE_CHECKING:
    from orders.config import Config

ISSUERS = frozenset({"accounts.google.com", "https://accounts.google.com"})
_CERTS_TTL_SECONDS = 3600

# subscriptionNotification.notificationType
_SUB_RECOVERED, _SUB_RENEWED, _SUB_PURCHASED, _SUB_RESTARTED = 1, 2, 4, 7
# ... that are noted on the order's timeline (no money moves; voided purchases carry refunds)
_SUB_NOTICES = {
    3: "SUBSCRIPTION_CANCELED",
    5: "SUBSCRIPTION_ON_HOLD",
    6: "SUBSCRIPTION_GRACE_PERIOD",
    12: "SUBSCRIPTION_REVOKED",
    13: "SUBSCRIPTION_EXPIRED",
}
# oneTimeProductNotification.notificationType
_OTP_PURCHASED, _OTP_CANCELED = 1, 2


SCOPE = "https://www.googleapis.com/auth/androidpublisher"
_ACKNOWLEDGED = {1, "ACKNOWLEDGEMENT_STATE_ACKNOWLEDGED"}
# voidedPurchaseNotification.productType / refundType
_VOIDED_SUBSCRIPTION, _VOIDED_FULL_REFUND = 1, 1


@dataclass(frozen=True)
class PlayPurchase:
    order_id: str | None  # ours, from obfuscatedExternalAccountId
    google_order_id: str | None
    amount: int | None  # minor units: the Google order's total (what the buyer paid)
    currency: str | None
    expires_at: datetime | None = None
    acknowledged: bool = True
    product_id: str | None = None


class PlayPurchases(Protocol):
    def lookup(self, package: str, kind: str, product_id: str, token: str) -> PlayPurchase: ...

    def acknowledge(self, package: str, kind: str, product_id: str, token: str) -> None: ...


def play_credentials(key: str) -> Any:
    """The service account's credentials for the Play Developer API: the ONE place its key is read.

    ``key`` is the JSON key file's content (or its base64). Its ``token_uri`` is where google-auth
    trades a signed JWT for an access token: Google's, or the local stack's fake.
    """
    from google.oauth2 import service_account

    text = key.strip()
    if not text:
        raise errors.ProviderUnavailable(provider="google", reason="not configured")
    try:
        info = json.loads(text if text.startswith("{") else base64.b64decode(text, validate=True))
        return service_account.Credentials.from_service_account_info(info, scopes=[SCOPE])  # type: ignore[no-untyped-call]
    except (ValueError, binascii.Error) as exc:
        raise errors.ProviderUnavailable(provider="google", reason="service account key unreadable") from exc


def _credentials_from_secret() -> Any:
    """The Play API credentials from the secret store (503 PROVIDER_NOT_CONFIGURED while it is unset)."""
    from orders import secrets

    return play_credentials(secrets.require(secrets.SecretName.GOOGLE_SERVICE_ACCOUNT_JSON))


def _money(value: Any) -> tuple[int | None, str | None]:
    """A google.type.Money ({currencyCode, units, nanos}) → (minor units, currency)."""
    if not isinstance(value, dict) or not isinstance(value.get("currencyCode"), str):
        return None, None
    currency = value["currencyCode"].upper()
    try:
        micros = int(value.get("units") or 0) * 1_000_000 + int(value.get("nanos") or 0) // 1000
    except (TypeError, ValueError):
        return None, currency
    return from_micros(micros, currency), currency


def _rfc3339(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


class PlayDeveloperApi:
    """The Play Developer API (v3) with a service account's OAuth token (google-auth ``AuthorizedSession``).

    One-time products: ``purchases.products.get`` (by product and token) or ``purchases.productsv2``
    (by token alone, for voided purchases); subscriptions: ``purchases.subscriptionsv2.get``; the
    amount paid: ``orders.get`` (Order.total). Purchases are acknowledged with ``...:acknowledge``.
    """

    def __init__(self, base_url: str, credentials: Any, session: Any = None) -> None:
        self._base = base_url.rstrip("/")
        self._credentials = credentials
        self._session = session

    def _call(self, method: str, path: str) -> dict[str, Any]:
        import requests
        from google.auth import exceptions

        if self._session is None:
            from google.auth.transport.requests import AuthorizedSession

            credentials = self._credentials() if callable(self._credentials) else self._credentials
            self._session = AuthorizedSession(credentials)  # type: ignore[no-untyped-call]
        url = f"{self._base}/androidpublisher/v3/applications/{path}"
        try:
            response = self._session.request(method, url, timeout=5)
        except (requests.RequestException, exceptions.GoogleAuthError) as exc:
            # A refused token request (bad key, revoked account) is an outage for us: Pub/Sub retries.
            raise errors.ProviderUnavailable(provider="google", reason=type(exc).__name__) from exc
        if response.status_code not in (200, 204):
            raise errors.ProviderUnavailable(provider="google", http_status=response.status_code)
        data: dict[str, Any] = response.json() if response.content else {}
        return data

    def lookup(self, package: str, kind: str, product_id: str, token: str) -> PlayPurchase:
        if kind == "subscriptions":
            data = self._call("GET", f"{package}/purchases/subscriptionsv2/tokens/{token}")
            items = [i for i in data.get("lineItems") or [] if isinstance(i, dict)]
            expiries = [e for e in (_rfc3339(i.get("expiryTime")) for i in items) if e is not None]
            account = (data.get("externalAccountIdentifiers") or {}).get("obfuscatedExternalAccountId")
            google_order, expires = data.get("latestOrderId"), max(expiries, default=None)
            product_id = product_id or next((str(i["productId"]) for i in items if i.get("productId")), "")
        elif product_id:
            data = self._call("GET", f"{package}/purchases/products/{product_id}/tokens/{token}")
            account, google_order, expires = data.get("obfuscatedExternalAccountId"), data.get("orderId"), None
        else:  # a voided one-time purchase names no product: productsv2 is keyed by the token alone
            data = self._call("GET", f"{package}/purchases/productsv2/tokens/{token}")
            items = [i for i in data.get("productLineItem") or [] if isinstance(i, dict)]
            product_id = next((str(i["productId"]) for i in items if i.get("productId")), "")
            account, google_order, expires = data.get("obfuscatedExternalAccountId"), data.get("orderId"), None
        amount, currency = None, None
        if isinstance(google_order, str) and google_order:
            amount, currency = _money(self._call("GET", f"{package}/orders/{google_order}").get("total"))
        return PlayPurchase(
            order_id=order_id_from_token(account if isinstance(account, str) else None),
            google_order_id=google_order if isinstance(google_order, str) else None,
            amount=amount,
            currency=currency,
            expires_at=expires,
            acknowledged=data.get("acknowledgementState") in _ACKNOWLEDGED,
            product_id=product_id or None,
        )

    def acknowledge(self, package: str, kind: str, product_id: str, token: str) -> None:
        self._call("POST", f"{package}/purchases/{kind}/{product_id}/tokens/{token}:acknowledge")


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
            # Credentials are made at the first Play call: a misconfigured key fails that call (503), not the import.
            purchases=PlayDeveloperApi(config.google_play_api_base, _credentials_from_secret),
        )

    def acknowledge(self, event: PaymentEvent) -> None:
        """Acknowledge the purchase ``event`` paid an order with (Google refunds unacknowledged ones after 3 days)."""
        refs = event.provider_references
        self._purchases.acknowledge(self._package, refs["api"], refs["product_id"], refs["purchase_token"])

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
        ntype = 0
        voided: dict[str, Any] | None = None
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
            }.get(ntype, PaymentEventKind.NOTICE if ntype in _SUB_NOTICES else PaymentEventKind.OTHER)
            api_kind, product, token = "subscriptions", sub.get("subscriptionId"), sub.get("purchaseToken")
        elif isinstance(voided := data.get("voidedPurchaseNotification"), dict):
            # Refunded, charged back or revoked at Google: a provider refund of the order (names no product).
            event_type = "voidedPurchaseNotification"
            kind = PaymentEventKind.REFUNDED
            api_kind = "subscriptions" if voided.get("productType") == _VOIDED_SUBSCRIPTION else "products"
            product, token = None, voided.get("purchaseToken")
        else:
            return other("testNotification" if "testNotification" in data else "unknown")
        if not isinstance(token, str) or not token:
            raise errors.InvalidWebhookPayload(provider="google")
        purchase = self._purchases.lookup(self._package, api_kind, str(product or ""), token)
        refunds = []
        voided_full = int((voided or {}).get("refundType") or _VOIDED_FULL_REFUND) == _VOIDED_FULL_REFUND
        if kind is PaymentEventKind.REFUNDED and purchase.amount is not None and voided_full:
            # A quantity-based partial refund (refundType 2) carries no amount: left to reconciliation.
            voided_order = (voided or {}).get("orderId") or purchase.google_order_id or token
            refunds.append(ProviderRefund(refund_id=f"voided:{voided_order}", amount=purchase.amount))
        product_id = str(product or purchase.product_id or "")
        references = {"purchase_token": token, "product_id": product_id, "api": api_kind}
        if purchase.google_order_id:
            references["google_order_id"] = purchase.google_order_id
        if kind is PaymentEventKind.SUCCEEDED and not purchase.acknowledged:
            references["acknowledgement"] = "pending"
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
            notice=_SUB_NOTICES.get(ntype) if kind is PaymentEventKind.NOTICE else None,
        )
