"""Apple App Store Server Notifications V2: a signed JWS, verified with app-store-server-library.

The library checks the x5c certificate chain up to the configured Apple root certificate(s),
the ES256 signature, the bundle id (and app Apple id in Production) and the environment: a
Sandbox notification is refused by a Production stage and the other way round. The order id
travels as the transaction's ``appAccountToken`` (see tokens).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orders import errors
from orders.layer_paths import use_apple_deps
from orders.models.payment import PaymentEvent, PaymentEventKind, Provider, ProviderRefund
from orders.payments.money import from_milliunits
from orders.payments.tokens import order_id_from_token

if TYPE_CHECKING:
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

    def __init__(self, verifier: SignedDataVerifier | None) -> None:
        self._verifier = verifier

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
        return cls(verifier)

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
            transaction = None
            if notification.data is not None and notification.data.signedTransactionInfo:
                transaction = self._verifier.verify_and_decode_signed_transaction(
                    notification.data.signedTransactionInfo
                )
        except VerificationException as exc:
            raise errors.WebhookSignatureInvalid(reason=VerificationStatus(exc.status).name) from exc
        if not notification.notificationUUID:
            raise errors.InvalidWebhookPayload(provider="apple")
        event_type = notification.rawNotificationType or "UNKNOWN"
        if notification.rawSubtype:
            event_type += f"/{notification.rawSubtype}"
        return to_event(notification.notificationUUID, event_type, notification.rawNotificationType, transaction)


def _ms(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value / 1000, tz=UTC) if value else None


def to_event(
    event_id: str, event_type: str, notification_type: str | None, tx: JWSTransactionDecodedPayload | None
) -> PaymentEvent:
    kind = _KINDS.get(notification_type or "", PaymentEventKind.OTHER)
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
    }
    refunds = []
    if kind is PaymentEventKind.REFUNDED and tx.transactionId and amount is not None:
        # Apple refunds a whole transaction; the transaction id is the refund's identity.
        refunds.append(ProviderRefund(refund_id=f"refund:{tx.transactionId}", amount=amount))
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
    )
