"""orders.secrets: provider credentials from Secrets Manager (Powertools Parameters), 503 while unset."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from orders import cache, config, errors, secrets
from orders.secrets import SecretName

ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:orders-dev/stripe-api-key-AbCdEf"


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    """The function's Secrets Manager, stubbed: each test says what GetSecretValue answers."""
    client = boto3.client("secretsmanager", region_name="us-east-1")
    stubber = Stubber(client)
    real_client = boto3.client

    def fake_client(name: str, *args: Any, **kwargs: Any) -> Any:
        return client if name == "secretsmanager" else real_client(name, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(boto3, "client", fake_client)
    environment = {"STRIPE_API_KEY_SECRET_ARN": ARN, "SECRETS_MAX_AGE_SECONDS": "300"}
    config.use_environment(lambda: environment)
    cache.reset()
    with stubber:
        yield stubber
    config.use_environment(config.process_environment)
    cache.reset()


def test_a_set_secret_is_read_once_and_cached_for_its_max_age(stub: Stubber) -> None:
    # Given the secret holds a key (one GetSecretValue answer is all the stub has)
    stub.add_response("get_secret_value", {"SecretString": "sk_live_123", "ARN": ARN}, {"SecretId": ARN})
    # When it is read twice within the max age
    first = secrets.require(SecretName.STRIPE_API_KEY)
    second = secrets.require(SecretName.STRIPE_API_KEY)
    # Then both reads have the value and Secrets Manager was asked once
    assert (first, second) == ("sk_live_123", "sk_live_123")
    stub.assert_no_pending_responses()


def test_a_secret_created_empty_is_unset_logs_one_line_and_answers_503(
    stub: Stubber, caplog: pytest.LogCaptureFixture
) -> None:
    # Given the stack created the secret without a value (Secrets Manager: no AWSCURRENT version)
    stub.add_client_error("get_secret_value", "ResourceNotFoundException", "no value for AWSCURRENT")
    # When a route needs it
    with caplog.at_level(logging.WARNING), pytest.raises(errors.ProviderNotConfigured) as refused:
        secrets.require(SecretName.STRIPE_API_KEY)
    # Then the route answers 503 with a stable code, and one log line names the secret and the remedy
    assert (refused.value.code, isinstance(refused.value, errors.Unavailable)) == ("PROVIDER_NOT_CONFIGURED", True)
    lines = [r.getMessage() for r in caplog.records if "STRIPE_API_KEY" in r.getMessage()]
    assert len(lines) == 1 and "make secrets" in lines[0]


def test_an_unset_secret_is_logged_once_per_cold_start_and_every_request_still_answers_503(
    stub: Stubber, caplog: pytest.LogCaptureFixture
) -> None:
    # Given the secret has no value, for three requests in one execution environment (one per request:
    # a value that is not there is not cached, so each request asks Secrets Manager again)
    for _ in range(3):
        stub.add_client_error("get_secret_value", "ResourceNotFoundException", "no value for AWSCURRENT")
    # When each of them needs it
    codes = []
    with caplog.at_level(logging.INFO):
        for _ in range(3):
            with pytest.raises(errors.ProviderNotConfigured) as refused:
                secrets.require(SecretName.STRIPE_API_KEY)
            codes.append(refused.value.code)
    # Then each request is a 503 with the stable code, and one warning was logged, by the first
    assert codes == ["PROVIDER_NOT_CONFIGURED"] * 3
    about = [r for r in caplog.records if "STRIPE_API_KEY" in r.getMessage()]
    assert [r.levelname for r in about] == ["WARNING"]
    # and a new execution environment (a cold start) warns again
    cache.reset()
    stub.add_client_error("get_secret_value", "ResourceNotFoundException", "no value for AWSCURRENT")
    with caplog.at_level(logging.INFO), pytest.raises(errors.ProviderNotConfigured):
        secrets.require(SecretName.STRIPE_API_KEY)
    assert len([r for r in caplog.records if "STRIPE_API_KEY" in r.getMessage()]) == 2


def test_a_secret_not_wired_is_logged_once_per_cold_start(caplog: pytest.LogCaptureFixture) -> None:
    config.use_environment(dict)
    cache.reset()
    try:
        with caplog.at_level(logging.INFO):
            found = [secrets.value(SecretName.GOOGLE_SERVICE_ACCOUNT_JSON) for _ in range(3)]
        assert found == [None, None, None]
        about = [r for r in caplog.records if "GOOGLE_SERVICE_ACCOUNT_JSON" in r.getMessage()]
        assert [r.levelname for r in about] == ["WARNING"]
    finally:
        config.use_environment(config.process_environment)
        cache.reset()


def test_an_empty_string_is_unset_too(stub: Stubber) -> None:
    stub.add_response("get_secret_value", {"SecretString": "  ", "ARN": ARN}, {"SecretId": ARN})
    assert secrets.value(SecretName.STRIPE_API_KEY) is None


def test_a_secret_that_cannot_be_read_is_a_503_of_its_own(stub: Stubber) -> None:
    # Given the role may not read it (a wiring mistake, not an unset value)
    stub.add_client_error("get_secret_value", "AccessDeniedException", "not authorized")
    with pytest.raises(errors.SecretUnavailable):
        secrets.value(SecretName.STRIPE_API_KEY)


def test_a_secret_not_wired_to_the_function_is_unset() -> None:
    config.use_environment(dict)
    cache.reset()
    try:
        assert secrets.value(SecretName.GOOGLE_SERVICE_ACCOUNT_JSON) is None
    finally:
        config.use_environment(config.process_environment)
        cache.reset()


def test_the_unset_webhook_secret_makes_the_webhook_a_503_not_a_401(stub: Stubber) -> None:
    # Given the Stripe webhook secret was never set
    from orders.adapters.payments import webhook_adapter
    from orders.models.payment import Provider

    config.use_environment(lambda: {"STRIPE_WEBHOOK_SECRET_ARN": ARN})
    cache.reset()
    stub.add_client_error("get_secret_value", "ResourceNotFoundException", "no value")
    # When Stripe delivers a signed event
    with pytest.raises(errors.WebhookNotConfigured) as refused:
        webhook_adapter(Provider.STRIPE).parse({"stripe-signature": "t=1,v1=ab"}, b"{}")
    # Then it is a 503 (Stripe retries it once the secret is set), with the webhook's stable code
    assert isinstance(refused.value, errors.Unavailable)
    assert refused.value.code == "WEBHOOK_NOT_CONFIGURED"
