"""A fresh deploy: provider secrets created empty. Their routes answer 503 with a stable code; nothing else breaks."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from local_stack.runtime import LambdaRuntime
from tests.conftest import api_event
from tests.integration.conftest import Api, put_secret
from tests.integration.payments_support import create_order, post_stripe, stripe_event


@pytest.fixture
def empty_secret(runtime: LambdaRuntime) -> str:
    """A secret as the stack creates it: no value. The payment functions are pointed at it."""
    arn: str = boto3.client("secretsmanager", region_name="us-east-1").create_secret(Name="created-empty")["ARN"]
    # Nothing listens on port 9: a call that gets as far as Stripe fails fast, and never leaves the machine.
    runtime.override_environment(
        "PaymentsFunction", STRIPE_API_KEY_SECRET_ARN=arn, STRIPE_API_BASE="http://127.0.0.1:9"
    )
    runtime.override_environment("PaymentWebhookFunction", STRIPE_WEBHOOK_SECRET_ARN=arn)
    return arn


def test_starting_a_stripe_payment_answers_503_until_the_key_is_set(api: Api, empty_secret: str) -> None:
    # Given an order, on a stack whose Stripe key secret is still empty
    order = create_order(api)
    # When its owner starts paying with Stripe
    event = api_event(
        "payments_start_payment",
        user="user-pay-0001",
        path_params={"order_id": order["order_id"]},
        body={"provider": "stripe"},
    )
    result = api(event)
    # Then 503 PROVIDER_NOT_CONFIGURED (retry later), not a 500
    assert (result.status, result.body["code"]) == (503, "PROVIDER_NOT_CONFIGURED")
    # And once the key is put (make secrets), the same request goes on to Stripe (the unset value was not
    # cached; no Stripe listens in this test, so it ends at "could not reach the provider")
    put_secret(empty_secret, "sk_test_local_only_not_a_secret")
    assert api(event).body["code"] == "PROVIDER_UNAVAILABLE"


def test_a_signed_stripe_webhook_answers_503_until_the_signing_secret_is_set(api: Api, empty_secret: str) -> None:
    order = create_order(api)
    result = post_stripe(api, stripe_event(order["order_id"]))
    assert (result.status, result.body["code"]) == (503, "WEBHOOK_NOT_CONFIGURED")


def test_routes_without_secrets_are_unaffected(api: Api, empty_secret: str) -> Any:
    assert create_order(api)["status"] == "PENDING_PAYMENT"
