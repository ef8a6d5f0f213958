"""POST /webhooks/google through the real handler, against the fake Google (OAuth token endpoint + Play API).

The Play Developer API is called with a service account's OAuth token (google-auth); the fake refuses
calls without one, as Google does.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from local_stack.fake_google_play import PUSH_SERVICE_ACCOUNT, FakeGooglePlay, FakeGooglePlayServer
from local_stack.runtime import LambdaRuntime
from orders.models.payment import account_token
from tests.conftest import FAKE_AWS_ENV
from tests.integration.conftest import REFS, Api, HttpResult, put_secret
from tests.integration.payments_support import create_order, get_order, ledger, timeline, webhook_event

AUDIENCE = "https://orders.example.com/webhooks/google"
PACKAGE = "com.example.orders"


@pytest.fixture
def google() -> Iterator[FakeGooglePlay]:
    server = FakeGooglePlayServer(FakeGooglePlay(package=PACKAGE))
    server.start()
    yield server.fake
    server.stop()


def _runtime(google: FakeGooglePlay, key: str) -> LambdaRuntime:
    refs = REFS | {
        "GooglePubsubAudience": AUDIENCE,
        "GooglePubsubServiceAccount": PUSH_SERVICE_ACCOUNT,
        "GooglePackageName": PACKAGE,
    }
    env = FAKE_AWS_ENV | {
        "GOOGLE_PLAY_API_BASE": google.base_url,
        "GOOGLE_OIDC_CERTS_URL": f"{google.base_url}/oauth2/v1/certs",
    }
    # The key is where a deployer puts it: the stack's Google service-account secret.
    put_secret("GoogleServiceAccountSecret", key)
    return LambdaRuntime(refs, base_env=env)


@pytest.fixture
def runtime(aws: None, google: FakeGooglePlay) -> LambdaRuntime:
    return _runtime(google, google.service_account_key())


def token_of(order: dict[str, str]) -> str:
    token = account_token(order["order_id"])
    assert token is not None
    return token


def post(
    api: Api, google: FakeGooglePlay, notification: dict[str, object], message_id: str | None = None
) -> HttpResult:
    body = google.rtdn(notification, message_id)
    return api(webhook_event("google", body, {"Authorization": f"Bearer {google.push_token(AUDIENCE)}"}))


def one_time(token: str, sku: str = "coins-500", ntype: int = 1) -> dict[str, object]:
    return {"oneTimeProductNotification": {"notificationType": ntype, "purchaseToken": token, "sku": sku}}


def subscription(token: str, ntype: int, product: str = "premium-monthly") -> dict[str, object]:
    return {"subscriptionNotification": {"notificationType": ntype, "purchaseToken": token, "subscriptionId": product}}


def test_the_fake_play_api_refuses_calls_without_a_valid_bearer_token(google: FakeGooglePlay) -> None:
    token = google.buy_product("coins-500", "acct", 499, "USD")
    url = f"{google.base_url}/androidpublisher/v3/applications/{PACKAGE}/purchases/products/coins-500/tokens/{token}"
    missing = requests.get(url, timeout=5)
    forged = requests.get(url, headers={"Authorization": "Bearer ya29.made-up"}, timeout=5)
    assert (missing.status_code, missing.json()["error"]["status"]) == (401, "UNAUTHENTICATED")
    assert forged.status_code == 401


def test_a_one_time_purchase_pays_the_order_and_is_acknowledged_once(api: Api, google: FakeGooglePlay) -> None:
    # Given an order paid in Google Play (the app passed the order's account token as obfuscatedAccountId)
    order = create_order(api)
    token = google.buy_product("coins-500", token_of(order), 499, "USD")
    # When the RTDN arrives, twice (Pub/Sub redelivers)
    first = post(api, google, one_time(token), message_id="m-otp-1")
    again = post(api, google, one_time(token), message_id="m-otp-1")
    # Then the Play API was called with an OAuth token, the order is PAID, and the purchase acknowledged once
    assert (first.status, first.body["outcome"], again.body["duplicate"]) == (200, "PAID", True)
    assert get_order(api, order["order_id"])["status"] == "PAID"
    assert google.acknowledged == [token]
    assert ("POST", "/token", 200) in google.requests
    assert all(status == 200 for _, _, status in google.requests)


def test_a_purchase_that_does_not_pay_its_order_is_not_acknowledged(api: Api, google: FakeGooglePlay) -> None:
    # Given a Google order of another amount than ours
    order = create_order(api)
    token = google.buy_product("coins-500", token_of(order), 399, "USD")
    result = post(api, google, one_time(token))
    # Then it is an anomaly and stays unacknowledged, so Google refunds it by itself
    assert result.body["outcome"] == "AMOUNT_MISMATCH"
    assert google.acknowledged == []


def test_a_subscription_is_read_from_subscriptionsv2_and_acknowledged(api: Api, google: FakeGooglePlay) -> None:
    order = create_order(api, sku="premium-monthly")
    token = google.subscribe("premium-monthly", token_of(order), 999, "USD", days=30)
    result = post(api, google, subscription(token, 4))
    assert result.body["outcome"] == "PAID"
    from orders.dal.repos import orders_repository

    api.runtime.activate("PaymentWebhookFunction")
    stored = orders_repository().get(order["order_id"])
    assert stored is not None and stored.subscription_expires_at is not None
    assert google.acknowledged == [token]
    assert any("/purchases/subscriptionsv2/tokens/" in path for _, path, _ in google.requests)


def test_a_voided_purchase_is_a_provider_refund_counted_once(api: Api, google: FakeGooglePlay) -> None:
    order = create_order(api)
    token = google.buy_product("coins-500", token_of(order), 499, "USD")
    post(api, google, one_time(token))
    # When Google voids it (refund or chargeback), reported twice under two message ids
    voided = google.void(token)
    first = post(api, google, voided)
    second = post(api, google, voided)
    # Then the order is REFUNDED once, by the Google order's total
    assert (first.body["outcome"], second.body["outcome"]) == ("REFUNDED", "REFUND_ALREADY_RECORDED")
    state = get_order(api, order["order_id"])
    assert (state["status"], state["refunded_total"]) == ("REFUNDED", 499)
    assert timeline(api, order["order_id"])[-1]["type"] == "REFUND_FULL"


def test_a_grace_period_is_noted_on_the_timeline(api: Api, google: FakeGooglePlay) -> None:
    order = create_order(api, sku="premium-monthly")
    token = google.subscribe("premium-monthly", token_of(order), 999, "USD")
    post(api, google, subscription(token, 4))
    assert post(api, google, subscription(token, 6)).body["outcome"] == "NOTED"
    assert timeline(api, order["order_id"])[-1]["type"] == "SUBSCRIPTION_GRACE_PERIOD"


def test_a_key_google_does_not_know_gets_no_token_and_nothing_is_written(aws: None, google: FakeGooglePlay) -> None:
    # Given the function configured with another service account's key (same token endpoint)
    stranger = FakeGooglePlay(package=PACKAGE).service_account_key(token_uri=google.token_uri)
    api = Api(_runtime(google, stranger))
    order = create_order(api)
    token = google.buy_product("coins-500", token_of(order), 499, "USD")
    # When the RTDN arrives
    result = post(api, google, one_time(token))
    # Then the token request is refused, the answer is 503 (Pub/Sub retries) and nothing is recorded
    assert (result.status, result.body["code"]) == (503, "PROVIDER_UNAVAILABLE")
    assert ("POST", "/token", 400) in google.requests
    assert ledger(api, order["order_id"]) == []
    assert get_order(api, order["order_id"])["status"] == "PENDING_PAYMENT"
