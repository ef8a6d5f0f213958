"""Apple adapter: chain to a test root, environment and bundle checks, mapping."""

from __future__ import annotations

import json

import pytest

from orders import errors
from orders.adapters.payments.apple_adapter import AppleWebhooks
from orders.config import Config
from orders.models.payment import PaymentEventKind, account_token
from tests.apple_chain import make_chain, notification, shared_chain

ORDER = "ord_" + "a" * 32


def adapter(environment: str = "Sandbox", root: str | None = None) -> AppleWebhooks:
    config = Config.model_validate(
        {
            "APPLE_BUNDLE_ID": "com.example.orders",
            "APPLE_APP_APPLE_ID": "1234",
            "APPLE_ENVIRONMENT": environment,
            "APPLE_ROOT_CERTIFICATES": root or shared_chain().root_b64,
            "APPLE_ONLINE_CHECKS": "false",
        }
    )
    return AppleWebhooks.from_config(config)


def test_a_notification_signed_under_the_test_root_verifies_and_maps() -> None:
    body = notification(shared_chain(), "ONE_TIME_CHARGE", order_token=account_token(ORDER), price_milli=4990)
    event = adapter().parse({}, body.encode())
    assert (event.kind, event.order_id, event.amount, event.currency) == (
        PaymentEventKind.SUCCEEDED,
        ORDER,
        499,
        "USD",
    )


def test_a_chain_to_another_root_is_refused() -> None:
    body = notification(make_chain(), "ONE_TIME_CHARGE", order_token=account_token(ORDER))
    with pytest.raises(errors.WebhookSignatureInvalid):
        adapter().parse({}, body.encode())


def test_a_tampered_payload_is_refused() -> None:
    body = json.loads(notification(shared_chain(), "ONE_TIME_CHARGE", order_token=account_token(ORDER)))
    header, payload, signature = body["signedPayload"].split(".")
    body["signedPayload"] = ".".join([header, payload[:-4] + "AAAA", signature])
    with pytest.raises(errors.WebhookSignatureInvalid):
        adapter().parse({}, json.dumps(body).encode())


def test_sandbox_notifications_are_refused_by_a_production_stage() -> None:
    body = notification(shared_chain(), "ONE_TIME_CHARGE", order_token=account_token(ORDER), environment="Sandbox")
    with pytest.raises(errors.WebhookSignatureInvalid) as refused:
        adapter(environment="Production").parse({}, body.encode())
    assert refused.value.details["reason"] == "INVALID_ENVIRONMENT"


def test_another_apps_notification_is_refused() -> None:
    body = notification(shared_chain(), "ONE_TIME_CHARGE", order_token=None, bundle_id="com.other.app")
    with pytest.raises(errors.WebhookSignatureInvalid):
        adapter().parse({}, body.encode())


def test_missing_signed_payload_and_malformed_json() -> None:
    with pytest.raises(errors.WebhookSignatureMissing):
        adapter().parse({}, b"{}")
    with pytest.raises(errors.InvalidJson):
        adapter().parse({}, b"{not json")


def test_renewal_and_refund_mapping() -> None:
    renewal = adapter().parse(
        {},
        notification(shared_chain(), "DID_RENEW", order_token=account_token(ORDER), expires_ms=4102444800000).encode(),
    )
    assert renewal.kind is PaymentEventKind.RENEWED
    assert renewal.subscription_expires_at is not None
    refund = adapter().parse({}, notification(shared_chain(), "REFUND", order_token=account_token(ORDER)).encode())
    assert refund.kind is PaymentEventKind.REFUNDED
    assert [r.amount for r in refund.refunds] == [499]
