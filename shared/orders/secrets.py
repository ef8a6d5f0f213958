"""Provider credentials, read from AWS Secrets Manager through Powertools Parameters.

The set is small and named (:class:`SecretName`). template.yaml creates each secret EMPTY (no value
in the template, no CloudFormation parameter); an operator puts the value after the first deploy
(``make secrets``, docs/deploy.md). A function's environment carries only the ARNs of the secrets it
may read (``<NAME>_SECRET_ARN``, see :data:`SECRETS`), and its role may read exactly those.

Values are cached per execution environment for ``SECRETS_MAX_AGE_SECONDS`` (Powertools' cache), so
a rotated value is picked up within that time without a redeploy. An unset secret never breaks a
deploy or a cold start: :func:`value` returns ``None`` and :func:`require` turns that into a 503
(``PROVIDER_NOT_CONFIGURED``) for every request while it is unset; the warning naming the secret and
what to do is logged once per secret per execution environment (a cold start), not per request.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from orders import errors
from orders.cache import per_environment
from orders.config import get_config
from orders.observability import logger

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider


class SecretName(StrEnum):
    STRIPE_API_KEY = "STRIPE_API_KEY"
    STRIPE_WEBHOOK_SECRET = "STRIPE_WEBHOOK_SECRET"  # noqa: S105 - a name, not a value
    APPLE_API_KEY = "APPLE_API_KEY"
    GOOGLE_SERVICE_ACCOUNT_JSON = "GOOGLE_SERVICE_ACCOUNT_JSON"
    CARRIER_SECRETS = "CARRIER_SECRETS"


@dataclass(frozen=True)
class SecretSpec:
    name: SecretName
    resource: str  # its AWS::SecretsManager::Secret in template.yaml
    setting: str  # the Config field (environment variable ``<SETTING>``) holding its ARN
    provider: str  # which provider is unusable while it is unset
    what: str


SECRETS: dict[SecretName, SecretSpec] = {
    spec.name: spec
    for spec in (
        SecretSpec(
            SecretName.STRIPE_API_KEY,
            "StripeApiKeySecret",
            "stripe_api_key_secret_arn",
            "stripe",
            "Stripe secret API key (sk_live_... / sk_test_... / a restricted rk_ key)",
        ),
        SecretSpec(
            SecretName.STRIPE_WEBHOOK_SECRET,
            "StripeWebhookSecret",
            "stripe_webhook_secret_arn",
            "stripe",
            "Stripe webhook signing secret(s) whsec_..., comma-separated while one is being rolled",
        ),
        SecretSpec(
            SecretName.APPLE_API_KEY,
            "AppleApiKeySecret",
            "apple_api_key_secret_arn",
            "apple",
            'App Store Server API key, JSON {"key_id", "issuer_id", "private_key"} (the .p8 text)',
        ),
        SecretSpec(
            SecretName.GOOGLE_SERVICE_ACCOUNT_JSON,
            "GoogleServiceAccountSecret",
            "google_service_account_secret_arn",
            "google",
            "Google Play Developer API service-account key file (JSON, androidpublisher scope)",
        ),
        SecretSpec(
            SecretName.CARRIER_SECRETS,
            "CarrierSecrets",
            "carrier_secrets_secret_arn",
            "carriers",
            'Carrier callback signing secrets, JSON {"<carrier>": "<secret>"} (one entry per carrier)',
        ),
    )
}

# Secrets Manager's answer for a secret that exists without a value (created empty) or does not exist.
_UNSET_CODES = frozenset({"ResourceNotFoundException"})


@per_environment
def _reported_unset() -> set[SecretName]:
    """Unset secrets already logged by this execution environment: one warning each per cold start."""
    return set()


def _warn_unset(name: SecretName, message: str, **extra: str) -> None:
    reported = _reported_unset()
    if name not in reported:
        reported.add(name)
        logger.warning(message, extra={"secret": str(name), **extra})


@per_environment
def _provider() -> SecretsProvider:
    """One provider (client + cache) per execution environment; the local stack resets it per function."""
    import boto3
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    return SecretsProvider(boto3_client=boto3.client("secretsmanager"))


def secret_id(name: SecretName) -> str | None:
    """The ARN (or, locally, the name) of a secret, as wired into this function's environment."""
    value = getattr(get_config(), SECRETS[name].setting)
    return str(value) if value else None


def value(name: SecretName) -> str | None:
    """The secret's current value, or ``None`` when it is unset (a warning with the remedy, once per cold start)."""
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

    spec = SECRETS[name]
    arn = secret_id(name)
    if arn is None:
        _warn_unset(name, f"secret {name} is not wired to this function (no {spec.setting.upper()} in its environment)")
        return None
    try:
        secret = _provider().get(arn, max_age=get_config().secrets_max_age_seconds)
    except GetParameterError as exc:
        if _error_code(exc) not in _UNSET_CODES:
            logger.error(f"secret {name} could not be read", extra={"secret": str(name), "secret_arn": arn})
            raise errors.SecretUnavailable(secret=str(name)) from exc
        secret = ""
    text = secret.decode("utf-8") if isinstance(secret, bytes) else str(secret)
    if not text.strip():
        _warn_unset(
            name,
            f"secret {name} has no value: put it with `make secrets` (docs/deploy.md); "
            f"{spec.provider} routes answer 503 until then",
            secret_arn=arn,
        )
        return None
    _reported_unset().discard(name)  # set now: should it be emptied again, that is news again
    return text.strip()


def require(name: SecretName) -> str:
    """The secret's value; a 503 ``PROVIDER_NOT_CONFIGURED`` for the route while it is unset."""
    found = value(name)
    if found is None:
        raise errors.ProviderNotConfigured(provider=SECRETS[name].provider)
    return found


def _error_code(exc: BaseException) -> str:
    """The AWS error code behind Powertools' GetParameterError (it wraps the ClientError as context)."""
    from botocore.exceptions import ClientError

    cause: Any = exc.__cause__ or exc.__context__
    if isinstance(cause, ClientError):
        return str(cause.response.get("Error", {}).get("Code", ""))
    return ""
