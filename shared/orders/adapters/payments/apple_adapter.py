"""Apple App Store Server Notifications V2: a signed JWS, verified with app-store-server-library.

The library checks the x5c certificate chain up to the configured Apple root certificate(s),
the ES256 signature, the bundle id (and app Apple id in Production) and the environment: a
Sandbox notification is refused by a Production stage and the other way round. The order id
travels as the transaction's ``appAccountToken`` (see orders.models.payment.account_token).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orders import errors
from orders.adapters.payments.money import exponent, from_milliunits
from orders.layer_paths import use_apple_deps
from orders.models.payment import PaymentEvent, PaymentEventKind, Provider, ProviderRefund, order_id_from_token

if TYPE_CHECKING:
    from appstoreserverlibrary.api_client import AppStoreServerAPIClient
    from appstoreserverlibrary.models.JWSRenewalInfoDecodedPayload import JWSRenewalInfoDecodedPayload
    from appstoreserverlibrary.models.JWSTransactionDecodedPayload import JWSTransactionDecodedPayload
    from appstoreserverlibrary.signed_data_verifier import SignedDataVerifier

    from orders.config import Config

# notificationType → effect. SUBSCRIBED and ONE_TIME_CHARGE are first payments; DID_RENEW a paid renewal.
_KINDS = {
    "ONE_TIME_CHARGE": PaymentEventKind.SUCCEEDED,
    "SUBSCRIBED": PaymentEventKind.SUCCEEDED,
    "DID_RENEW": PaymentEventKind.RENEWED,
    "REFUND": PaymentEventKind.REFUNDED,
}
# Noted on the order's timeline: no money moves (REFUND carries the money back).
_NOTICES = {
    "REVOKE": "PURCHASE_REVOKED",  # Family Sharing: a family member lost access; the purchaser keeps it
    "EXPIRED": "SUBSCRIPTION_EXPIRED",
    "DID_FAIL_TO_RENEW": "SUBSCRIPTION_BILLING_RETRY",
    "DID_FAIL_TO_RENEW/GRACE_PERIOD": "SUBSCRIPTION_GRACE_PERIOD",
    "CONSUMPTION_REQUEST": "REFUND_CONSUMPTION_REQUESTED",
    "REFUND_DECLINED": "REFUND_DECLINED_BY_STORE",
    "REFUND_REVERSED": "REFUND_REVERSED_BY_STORE",
}
_PERCENT_SCALE = 100_000  # revocationPercentage: 50000 = 50.000 %


def load_root_certificates(values: tuple[str, ...]) -> list[bytes]:
    """Each value: a path to a DER/PEM file, or base64 DER."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    roots = []
    for value in values:
        # Base64 may contain "/": only a value that names a certificate file is read as a path.
        is_path = value.lower().endswith((".cer", ".der", ".pem", ".crt"))
        data = Path(value).read_bytes() if is_path else base64.b64decode(value, validate=True)
        if data.lstrip().startswith(b"-----BEGIN"):
            data = x509.load_pem_x509_certificate(data).public_bytes(Encoding.DER)
        roots.append(data)
    return roots


class AppleWebhooks:
    provider = Provider.APPLE

    def __init__(
        self,
        verifier: SignedDataVerifier | None,
        api: Callable[[], AppStoreServerAPIClient | None] | None = None,
        *,
        customer_consented: bool = False,
    ) -> None:
        self._verifier = verifier
        # Made at the first consumption request: its key is a secret, read only when it is needed.
        self._api_factory = api
        self._customer_consented = customer_consented

    @classmethod
    def from_config(cls, config: Config) -> AppleWebhooks:
        use_apple_deps()
        from appstoreserverlibrary.models.Environment import Environment
        from appstoreserverlibrary.signed_data_verifier import SignedDataVerifier

        roots = load_root_certificates(config.apple_root_certificates)
        if not roots or not config.apple_bundle_id:
            return cls(None)
        verifier = SignedDataVerifier(
            roots,
            config.apple_online_checks,
            Environment(config.apple_environment),
            config.apple_bundle_id,
            config.apple_app_apple_id,
        )
        return cls(verifier, lambda: app_store_api(config), customer_consented=config.apple_customer_consented)

    def answer_consumption_request(self, event: PaymentEvent, delivered: bool) -> None:
        """Send consumption information for the transaction Apple asked about (App Store Server API).

        What we tell Apple (docs/payments.md): delivered or not, nothing consumed is claimed, and no
        refund preference: Apple decides. ``customerConsented`` is the configured consent setting.
        """
        from appstoreserverlibrary.api_client import APIException
        from appstoreserverlibrary.models.ConsumptionRequest import ConsumptionRequest
        from appstoreserverlibrary.models.DeliveryStatus import DeliveryStatus

        api = self._api_factory() if self._api_factory is not None else None
        if api is None:
            raise errors.ProviderUnavailable(provider="apple", reason="App Store Server API not configured")
        transaction_id = event.provider_references["transaction_id"]
        request = ConsumptionRequest(
            customerConsented=event.provider_references.get("customer_consented") == "true",
            sampleContentProvided=False,
            deliveryStatus=DeliveryStatus.DELIVERED if delivered else DeliveryStatus.UNDELIVERED_OTHER,
        )
        try:
            api.send_consumption_information(transaction_id, request)
        except (APIException, OSError) as exc:
            raise errors.ProviderUnavailable(provider="apple", reason=type(exc).__name__) from exc

    def parse(self, headers: Mapping[str, str], body: bytes) -> PaymentEvent:
        use_apple_deps()
        from appstoreserverlibrary.signed_data_verifier import VerificationException, VerificationStatus

        try:
            envelope = json.loads(body)
        except ValueError as exc:
            raise errors.InvalidJson() from exc
        signed = envelope.get("signedPayload") if isinstance(envelope, dict) else None
        if not isinstance(signed, str) or not signed:
            raise errors.WebhookSignatureMissing(field="signedPayload")
        if self._verifier is None:
            raise errors.WebhookNotConfigured(provider="apple")
        try:
            notification = self._verifier.verify_and_decode_notification(signed)
            transaction = renewal = None
            if notification.data is not None and notification.data.signedTransactionInfo:
                transaction = self._verifier.verify_and_decode_signed_transaction(
                    notification.data.signedTransactionInfo
                )
            if notification.data is not None and notification.data.signedRenewalInfo:
                renewal = self._verifier.verify_and_decode_renewal_info(notification.data.signedRenewalInfo)
        except VerificationException as exc:
            raise errors.WebhookSignatureInvalid(reason=VerificationStatus(exc.status).name) from exc
        if not notification.notificationUUID:
            raise errors.InvalidWebhookPayload(provider="apple")
        event_type = notification.rawNotificationType or "UNKNOWN"
        if notification.rawSubtype:
            event_type += f"/{notification.rawSubtype}"
        event = to_event(
            notification.notificationUUID, event_type, notification.rawNotificationType, transaction, renewal
        )
        if notification.rawNotificationType == "CONSUMPTION_REQUEST" and notification.data is not None:
            references = dict(event.provider_references)
            references["consumption_request"] = "pending"
            references["customer_consented"] = "true" if self._customer_consented else "false"
            if notification.data.rawConsumptionRequestReason:
                references["consumption_request_reason"] = notification.data.rawConsumptionRequestReason
            event = event.model_copy(update={"provider_references": references})
        return event


def _ms(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value / 1000, tz=UTC) if value else None


def to_event(
    event_id: str,
    event_type: str,
    notification_type: str | None,
    tx: JWSTransactionDecodedPayload | None,
    renewal: JWSRenewalInfoDecodedPayload | None = None,
) -> PaymentEvent:
    kind = _KINDS.get(notification_type or "", PaymentEventKind.OTHER)
    notice = _NOTICES.get(event_type) or _NOTICES.get(notification_type or "")
    if notice is not None:
        kind = PaymentEventKind.NOTICE
    if tx is None:
        return PaymentEvent(
            provider=Provider.APPLE, event_id=event_id, event_type=event_type, kind=PaymentEventKind.OTHER
        )
    currency = tx.currency.upper() if tx.currency and len(tx.currency) == 3 else None
    amount = from_milliunits(tx.price, currency) if tx.price is not None and currency else None
    references: dict[str, Any] = {
        "transaction_id": tx.transactionId,
        "original_transaction_id": tx.originalTransactionId,
        "product_id": tx.productId,
        "environment": tx.rawEnvironment,
        "revocation_type": tx.rawRevocationType,
        "revocation_reason": tx.rawRevocationReason,
    }
    if renewal is not None and renewal.gracePeriodExpiresDate:
        references["grace_period_expires_at"] = _iso(renewal.gracePeriodExpiresDate)
    refunds = []
    if kind is PaymentEventKind.REFUNDED and tx.transactionId and tx.price is not None and currency:
        # Apple refunds a transaction, wholly or (REFUND_PRORATED) by revocationPercentage; the
        # transaction id is the refund's identity. A prorated amount is rounded down to a minor unit.
        refunded = _refunded_minor(tx.price, tx.rawRevocationType, tx.revocationPercentage, currency)
        refunds.append(ProviderRefund(refund_id=f"refund:{tx.transactionId}", amount=refunded))
    return PaymentEvent(
        provider=Provider.APPLE,
        event_id=event_id,
        event_type=event_type,
        kind=kind,
        order_id=order_id_from_token(tx.appAccountToken),
        amount=amount,
        currency=currency,
        payment_reference=tx.originalTransactionId or tx.transactionId,
        provider_references={k: str(v) for k, v in references.items() if v},
        refunds=refunds,
        subscription_expires_at=_ms(tx.expiresDate),
        occurred_at=_ms(tx.purchaseDate),
        notice=notice,
    )


def _iso(value: int) -> str | None:
    moment = _ms(value)
    return moment.isoformat() if moment else None


def _refunded_minor(price_milli: int, revocation_type: str | None, percentage: int | None, currency: str) -> int:
    if revocation_type == "REFUND_PRORATED" and percentage is not None:
        price_milli = price_milli * percentage // _PERCENT_SCALE
    return int(price_milli * 10 ** exponent(currency) // 1000)


def app_store_api(config: Config) -> AppStoreServerAPIClient | None:
    """The App Store Server API client (consumption information): the ONE place its signing key is read.

    The key is the ``APPLE_API_KEY`` secret, JSON ``{"key_id", "issuer_id", "private_key"}`` (the .p8 text);
    ``None`` while it is unset or unreadable (logged): the consumption request then answers 503 and Apple retries.
    """
    from appstoreserverlibrary.api_client import AppStoreServerAPIClient
    from appstoreserverlibrary.models.Environment import Environment

    from orders import secrets

    raw = secrets.value(secrets.SecretName.APPLE_API_KEY)
    if raw is None:
        return None
    try:
        key = json.loads(raw)
        private_key, key_id, issuer_id = str(key["private_key"]).strip(), str(key["key_id"]), str(key["issuer_id"])
    except (ValueError, TypeError, KeyError):
        from orders.observability import logger

        logger.error("secret APPLE_API_KEY is not JSON {key_id, issuer_id, private_key}")
        return None
    if not private_key or not key_id or not issuer_id:
        return None
    client = AppStoreServerAPIClient(
        private_key.encode(),
        key_id,
        issuer_id,
        config.apple_bundle_id,
        Environment(config.apple_environment),
    )
    if config.apple_api_base:
        # Local stack and tests only: the library's base URL follows the environment; point it at a fake.
        client._base_url = config.apple_api_base.rstrip("/")
    return client
