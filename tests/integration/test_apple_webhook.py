"""POST /webhooks/apple through the real handler: a subscription paid, renewed, refunded."""

from __future__ import annotations

import time

import pytest

from local_stack.runtime import LambdaRuntime
from orders.payments.tokens import account_token
from tests.apple_chain import make_chain, notification, shared_chain
from tests.conftest import FAKE_AWS_ENV
from tests.integration.conftest import REFS, Api, HttpResult
from tests.integration.payments_support import create_order, get_order, ledger, timeline, webhook_event

DAY_MS = 86_400_000


@pytest.fixture
def runtime(aws: None) -> LambdaRuntime:
    # Deployed, the roots are the files in the layer (orders/payments/certs); the test chain's own root is
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
