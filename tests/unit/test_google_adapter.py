"""Google adapter: the Pub/Sub push OIDC token checked with google-auth against a test key."""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
from dataclasses import dataclass
from typing import Any

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from orders import errors
from orders.adapters.payments.google_adapter import GoogleWebhooks, PlayPurchase
from orders.models.payment import PaymentEventKind

AUDIENCE = "https://api.example.com/webhooks/google"
SA = "rtdn-push@example.iam.gserviceaccount.com"
ORDER = "ord_" + "b" * 32
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _cert_pem() -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test-google")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(KEY.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(KEY, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


@dataclass
class _Response:
    status: int
    data: bytes
    headers: dict[str, str]


class FakeCerts:
    """A google-auth transport answering the certs URL with the test certificate (no network)."""

    def __init__(self) -> None:
        self.body = json.dumps({"test-kid": _cert_pem().decode()}).encode()

    def __call__(self, url: str, method: str = "GET", **_: Any) -> _Response:
        return _Response(200, self.body, {})


class FakePurchases:
    def lookup(self, package: str, kind: str, product_id: str, token: str) -> PlayPurchase:
        return PlayPurchase(order_id=ORDER, google_order_id="GPA.1", amount=499, currency="USD", acknowledged=False)

    def acknowledge(self, package: str, kind: str, product_id: str, token: str) -> None:
        raise AssertionError("the adapter never acknowledges while parsing")


def token(**overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": "https://accounts.google.com",
        "aud": AUDIENCE,
        "email": SA,
        "email_verified": True,
        "iat": now,
        "exp": now + 3600,
        "sub": "1234",
    } | overrides
    return jwt.encode(claims, KEY, algorithm="RS256", headers={"kid": "test-kid"})


def adapter() -> GoogleWebhooks:
    return GoogleWebhooks(
        audience=AUDIENCE,
        service_account=SA,
        package_name="com.example.orders",
        certs_url="https://certs.invalid/",
        purchases=FakePurchases(),
        transport=FakeCerts(),
    )


def body(notification: dict[str, Any]) -> bytes:
    data = {"version": "1.0", "packageName": "com.example.orders", **notification}
    message = {"data": base64.b64encode(json.dumps(data).encode()).decode(), "messageId": "m-1"}
    return json.dumps({"message": message, "subscription": "projects/p/subscriptions/s"}).encode()


PURCHASED = {"oneTimeProductNotification": {"notificationType": 1, "purchaseToken": "tok", "sku": "coins"}}


def test_a_valid_token_verifies_and_the_rtdn_maps() -> None:
    event = adapter().parse({"authorization": f"Bearer {token()}"}, body(PURCHASED))
    assert (event.event_id, event.kind, event.order_id, event.amount) == ("m-1", PaymentEventKind.SUCCEEDED, ORDER, 499)


@pytest.mark.parametrize(
    ("claims", "error"),
    [
        ({"aud": "https://someone-else.example"}, errors.WebhookSignatureInvalid),
        ({"iss": "https://evil.example"}, errors.WebhookSignatureInvalid),
        ({"email": "other@example.iam.gserviceaccount.com"}, errors.WebhookSignatureInvalid),
        ({"iat": int(time.time()) - 7200, "exp": int(time.time()) - 3600}, errors.WebhookTimestampStale),
    ],
)
def test_wrong_audience_issuer_account_or_expired_token_is_refused(claims: dict[str, Any], error: type) -> None:
    with pytest.raises(error):
        adapter().parse({"authorization": f"Bearer {token(**claims)}"}, body(PURCHASED))


def test_a_token_signed_by_another_key_and_a_missing_token_are_refused() -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(
        {"iss": "https://accounts.google.com", "aud": AUDIENCE, "email": SA, "exp": int(time.time()) + 60},
        other,
        algorithm="RS256",
        headers={"kid": "test-kid"},
    )
    with pytest.raises(errors.WebhookSignatureInvalid):
        adapter().parse({"authorization": f"Bearer {forged}"}, body(PURCHASED))
    with pytest.raises(errors.WebhookSignatureMissing):
        adapter().parse({}, body(PURCHASED))


def test_renewal_and_voided_purchase_mapping() -> None:
    renewed = adapter().parse(
        {"authorization": f"Bearer {token()}"},
        body({"subscriptionNotification": {"notificationType": 2, "purchaseToken": "t", "subscriptionId": "s"}}),
    )
    assert renewed.kind is PaymentEventKind.RENEWED
    voided = adapter().parse(
        {"authorization": f"Bearer {token()}"},
        body({"voidedPurchaseNotification": {"purchaseToken": "t", "orderId": "GPA.1", "productType": 2}}),
    )
    assert voided.kind is PaymentEventKind.REFUNDED
    assert [(r.refund_id, r.amount) for r in voided.refunds] == [("voided:GPA.1", 499)]
    partial = adapter().parse(
        {"authorization": f"Bearer {token()}"},
        body(
            {
                "voidedPurchaseNotification": {
                    "purchaseToken": "t",
                    "orderId": "GPA.1",
                    "productType": 2,
                    "refundType": 2,
                }
            }
        ),
    )
    # A quantity-based partial refund names no amount: no refund is counted from it (reconciliation)
    assert (partial.kind, partial.refunds) == (PaymentEventKind.REFUNDED, [])


def test_a_purchase_not_yet_acknowledged_is_marked_for_acknowledgement() -> None:
    event = adapter().parse({"authorization": f"Bearer {token()}"}, body(PURCHASED))
    assert event.provider_references["acknowledgement"] == "pending"
    assert (event.provider_references["api"], event.provider_references["product_id"]) == ("products", "coins")


def test_play_credentials_read_the_json_key_with_the_androidpublisher_scope() -> None:
    from local_stack.fake_google_play import FakeGooglePlay
    from orders.adapters.payments.google_adapter import SCOPE, play_credentials

    key = FakeGooglePlay().service_account_key(token_uri="http://127.0.0.1:9/token")
    for value in (key, base64.b64encode(key.encode()).decode()):
        credentials = play_credentials(value)
        assert credentials.scopes == [SCOPE]
        assert credentials._token_uri == "http://127.0.0.1:9/token"
    with pytest.raises(errors.ProviderUnavailable):
        play_credentials("")
    with pytest.raises(errors.ProviderUnavailable):
        play_credentials("not a key")
