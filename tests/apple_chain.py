"""A test certificate chain shaped like Apple's (root → WWDR intermediate → signing leaf) and signed
App Store Server Notifications V2 made with it. Keys are generated per test run."""

from __future__ import annotations

import base64
import datetime as dt
import time
import uuid
from dataclasses import dataclass
from functools import cache
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

INTERMEDIATE_OID = "1.2.840.113635.100.6.2.1"
LEAF_OID = "1.2.840.113635.100.6.11.1"
BUNDLE_ID = "com.example.orders"


@dataclass(frozen=True)
class Chain:
    root_der: bytes
    intermediate_der: bytes
    leaf_der: bytes
    leaf_key: ec.EllipticCurvePrivateKey

    @property
    def root_b64(self) -> str:
        return base64.b64encode(self.root_der).decode()

    @property
    def x5c(self) -> list[str]:
        return [base64.b64encode(d).decode() for d in (self.leaf_der, self.intermediate_der, self.root_der)]


def _cert(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: str,
    issuer_key: ec.EllipticCurvePrivateKey,
    *,
    ca: bool,
    marker_oid: str | None,
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=not ca,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
    )
    if marker_oid:
        builder = builder.add_extension(
            x509.UnrecognizedExtension(x509.ObjectIdentifier(marker_oid), b"\x05\x00"), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


def make_chain() -> Chain:
    root_key = ec.generate_private_key(ec.SECP256R1())
    mid_key = ec.generate_private_key(ec.SECP256R1())
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    root = _cert("Test Root CA", root_key, "Test Root CA", root_key, ca=True, marker_oid=None)
    mid = _cert("Test WWDR", mid_key, "Test Root CA", root_key, ca=True, marker_oid=INTERMEDIATE_OID)
    leaf = _cert("Test Signing", leaf_key, "Test WWDR", mid_key, ca=False, marker_oid=LEAF_OID)
    der = serialization.Encoding.DER
    return Chain(root.public_bytes(der), mid.public_bytes(der), leaf.public_bytes(der), leaf_key)


@cache
def shared_chain() -> Chain:
    return make_chain()


def sign(payload: dict[str, Any], chain: Chain) -> str:
    return jwt.encode(payload, chain.leaf_key, algorithm="ES256", headers={"x5c": chain.x5c})


def notification(
    chain: Chain,
    notification_type: str,
    *,
    order_token: str | None,
    price_milli: int = 4990,
    currency: str = "USD",
    environment: str = "Sandbox",
    bundle_id: str = BUNDLE_ID,
    transaction_id: str = "2000000000000001",
    expires_ms: int | None = None,
    subtype: str | None = None,
    uuid_: str | None = None,
) -> str:
    """A signedPayload body (JSON) for /webhooks/apple."""
    now_ms = int(time.time() * 1000)
    transaction = {
        "transactionId": transaction_id,
        "originalTransactionId": "2000000000000001",
        "bundleId": bundle_id,
        "productId": "premium.monthly",
        "purchaseDate": now_ms,
        "signedDate": now_ms,
        "environment": environment,
        "price": price_milli,
        "currency": currency,
        "type": "Auto-Renewable Subscription",
        "inAppOwnershipType": "PURCHASED",
    }
    if order_token:
        transaction["appAccountToken"] = order_token
    if expires_ms:
        transaction["expiresDate"] = expires_ms
    payload: dict[str, Any] = {
        "notificationType": notification_type,
        "notificationUUID": uuid_ or str(uuid.uuid4()),
        "version": "2.0",
        "signedDate": now_ms,
        "data": {
            "appAppleId": 1234,
            "bundleId": bundle_id,
            "environment": environment,
            "signedTransactionInfo": sign(transaction, chain),
        },
    }
    if subtype:
        payload["subtype"] = subtype
    import json

    return json.dumps({"signedPayload": sign(payload, chain)})
