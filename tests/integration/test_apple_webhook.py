"""POST /webhooks/apple through the real handler: a subscription paid, renewed, refunded."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from local_stack.runtime import LambdaRuntime
from orders.models.payment import account_token
from tests.apple_chain import make_chain, notification, shared_chain
from tests.conftest import FAKE_AWS_ENV
from tests.integration.conftest import REFS, Api, HttpResult, put_secret
from tests.integration.payments_support import create_order, get_order, ledger, timeline, webhook_event

DAY_MS = 86_400_000


@pytest.fixture
def runtime(aws: None) -> LambdaRuntime:
    # Deployed, the roots are the files in the layer (orders/adapters/payments/certs); the test chain's own root is
    # given instead. The test chain has no OCSP responder: online (revocation) checks are off for it only.
    test_env = {"APPLE_ONLINE_CHECKS": "false", "APPLE_ROOT_CERTIFICATES": shared_chain().root_b64}
    return LambdaRuntime(REFS, base_env=FAKE_AWS_ENV | test_env)


def post(api: Api, body: str) -> HttpResult:
    return api(webhook_event("apple", body))


def test_subscription_paid_then_renewed_then_refunded(api: Api) -> None:
    # Given a subscription order of 9.99 USD
    order = create_order(api, sku="premium-monthly")
    token = account_token(order["order_id"])
    now_ms = int(time.time() * 1000)
    # When Apple reports the purchase (price in milliunits)
    paid = post(
        api,
        notification(
            shared_chain(), "SUBSCRIBED", order_token=token, price_milli=9990, expires_ms=now_ms + 30 * DAY_MS
        ),
    )
    assert (paid.status, paid.body["outcome"]) == (200, "PAID")
    first_expiry = get_order(api, order["order_id"])["status"]
    assert first_expiry == "PAID"
    # And a renewal, delivered twice
    renewal = notification(
        shared_chain(),
        "DID_RENEW",
        order_token=token,
        price_milli=9990,
        expires_ms=now_ms + 60 * DAY_MS,
        transaction_id="2000000000000002",
    )
    assert post(api, renewal).body == {"received": True, "duplicate": False, "outcome": "RENEWED"}
    assert post(api, renewal).body["duplicate"] is True
    # Then the subscription is extended once and recorded as a paid renewal
    assert timeline(api, order["order_id"])[-1]["type"] == "SUBSCRIPTION_RENEWED"
    entries = ledger(api, order["order_id"])
    assert [(e["kind"], e["outcome"], e["amount"]) for e in entries] == [
        ("SUCCEEDED", "PAID", 999),
        ("RENEWED", "RENEWED", 999),
    ]
    # When Apple refunds the purchase
    refund = post(api, notification(shared_chain(), "REFUND", order_token=token, price_milli=9990))
    assert refund.body["outcome"] == "REFUNDED"
    state = get_order(api, order["order_id"])
    assert (state["status"], state["refunded_total"]) == ("REFUNDED", 999)


def test_a_notification_from_another_chain_is_401_and_writes_nothing(api: Api) -> None:
    order = create_order(api)
    forged = notification(make_chain(), "ONE_TIME_CHARGE", order_token=account_token(order["order_id"]))
    result = post(api, forged)
    assert (result.status, result.body["code"]) == (401, "WEBHOOK_SIGNATURE_INVALID")
    assert ledger(api, order["order_id"]) == []


def test_malformed_json_is_400(api: Api) -> None:
    result = post(api, "{not json")
    assert (result.status, result.body["code"]) == (400, "INVALID_JSON")


# --- CONSUMPTION_REQUEST: answered through the App Store Server API (a local fake of it) ------------
@dataclass
class FakeAppStoreApi:
    """Answers PUT /inApps/v2/transactions/consumption/{id} (202) to a request signed by the configured key only."""

    key: ec.EllipticCurvePrivateKey
    received: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    refused: int = 0
    url: str = ""


@pytest.fixture
def app_store() -> Iterator[FakeAppStoreApi]:
    state = FakeAppStoreApi(ec.generate_private_key(ec.SECP256R1()))

    class Handler(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            scheme, _, token = (self.headers.get("Authorization") or "").partition(" ")
            try:
                claims = jwt.decode(token, state.key.public_key(), algorithms=["ES256"], audience="appstoreconnect-v1")
                assert scheme == "Bearer" and jwt.get_unverified_header(token)["kid"] == KEY_ID
                assert (claims["iss"], claims["bid"]) == (ISSUER_ID, "com.example.orders")
            except (jwt.PyJWTError, AssertionError, KeyError):
                state.refused += 1
                self.send_response(401)
            else:
                state.received.append((self.path, body))
                self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield state
    server.shutdown()
    server.server_close()


KEY_ID, ISSUER_ID = "LOCALKEY01", "57246542-96fe-1a63-e053-0824d011072a"


@pytest.fixture
def consumption_runtime(aws: None, app_store: FakeAppStoreApi) -> LambdaRuntime:
    pem = app_store.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    env = FAKE_AWS_ENV | {
        "APPLE_ONLINE_CHECKS": "false",
        "APPLE_ROOT_CERTIFICATES": shared_chain().root_b64,
        "APPLE_API_BASE": app_store.url,
    }
    # The App Store Server API key is where a deployer puts it: the stack's Apple secret.
    put_secret("AppleApiKeySecret", json.dumps({"key_id": KEY_ID, "issuer_id": ISSUER_ID, "private_key": pem}))
    return LambdaRuntime(REFS, base_env=env)


def test_a_consumption_request_is_noted_and_answered_through_the_app_store_server_api(
    consumption_runtime: LambdaRuntime, app_store: FakeAppStoreApi
) -> None:
    api = Api(consumption_runtime)
    # Given a paid in-app purchase
    order = create_order(api)
    token = account_token(order["order_id"])
    post(api, notification(shared_chain(), "ONE_TIME_CHARGE", order_token=token, price_milli=4990))
    # When Apple asks for consumption information (the user asked Apple for a refund), delivered twice
    request = notification(shared_chain(), "CONSUMPTION_REQUEST", order_token=token, price_milli=4990)
    first, again = post(api, request), post(api, request)
    # Then it is on the order's timeline, and each delivery is answered for the transaction (signed request)
    assert (first.body["outcome"], again.body["duplicate"]) == ("NOTED", True)
    assert timeline(api, order["order_id"])[-1]["type"] == "REFUND_CONSUMPTION_REQUESTED"
    assert app_store.refused == 0
    assert [path for path, _ in app_store.received] == ["/inApps/v2/transactions/consumption/2000000000000001"] * 2
    assert app_store.received[0][1] == {
        "customerConsented": False,
        "sampleContentProvided": False,
        "deliveryStatus": "DELIVERED",
    }


def test_apples_test_notification_is_answered_without_an_anomaly(api: Api) -> None:
    from tests.apple_chain import BUNDLE_ID, sign

    payload = {
        "notificationType": "TEST",
        "notificationUUID": "3f1c2d9e-0000-4000-8000-000000000001",
        "version": "2.0",
        "signedDate": int(time.time() * 1000),
        "data": {"appAppleId": 1234, "bundleId": BUNDLE_ID, "environment": "Sandbox"},
    }
    result = post(api, json.dumps({"signedPayload": sign(payload, shared_chain())}))
    assert (result.status, result.body["outcome"]) == (200, "IGNORED")
