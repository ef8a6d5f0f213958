"""Payment-provider adapters: one webhook interface (verify + parse), one API port (pay, refund).

Adapters are made from the configuration (``get_config()``) and the provider's secrets
(``orders.secrets``, cached there with a max age, so a rotated or newly set secret is picked up
without a cold start), and import their provider SDK only when first used.
"""

from __future__ import annotations

from functools import lru_cache

from orders.adapters.payments.base import CreatedPayment, CreatedRefund, PaymentProvider, WebhookAdapter
from orders.cache import per_environment
from orders.config import get_config
from orders.models.payment import PaymentEvent, Provider

__all__ = [
    "CreatedPayment",
    "CreatedRefund",
    "PaymentProvider",
    "WebhookAdapter",
    "acknowledge",
    "answer_consumption_request",
    "payment_provider",
    "webhook_adapter",
]


def webhook_adapter(provider: Provider) -> WebhookAdapter:
    if provider is Provider.STRIPE:
        return _stripe_webhooks()
    if provider is Provider.APPLE:
        return _apple_webhooks()
    return _google_webhooks()


def acknowledge(event: PaymentEvent) -> None:
    """Tell the store a purchase was granted (Google Play refunds purchases not acknowledged in 3 days)."""
    if event.provider is Provider.GOOGLE:
        from orders.adapters.payments.google_adapter import GoogleWebhooks

        adapter = _google_webhooks()
        assert isinstance(adapter, GoogleWebhooks)
        adapter.acknowledge(event)


def answer_consumption_request(event: PaymentEvent, *, delivered: bool) -> None:
    """Answer Apple's CONSUMPTION_REQUEST for ``event``'s transaction (App Store Server API)."""
    if event.provider is Provider.APPLE:
        from orders.adapters.payments.apple_adapter import AppleWebhooks

        adapter = _apple_webhooks()
        assert isinstance(adapter, AppleWebhooks)
        adapter.answer_consumption_request(event, delivered)


def payment_provider() -> PaymentProvider:
    """The provider API the server calls itself (Stripe); Apple and Google are paid in the stores."""
    from orders import secrets

    api_key = secrets.require(secrets.SecretName.STRIPE_API_KEY)  # unset: 503 PROVIDER_NOT_CONFIGURED
    return _stripe_payments(api_key, get_config().stripe_api_base)


def _stripe_webhooks() -> WebhookAdapter:
    from orders import secrets
    from orders.adapters.payments.stripe_adapter import StripeWebhooks

    # Unset: no secrets, and the adapter answers a signed delivery with 503 WEBHOOK_NOT_CONFIGURED.
    raw = secrets.value(secrets.SecretName.STRIPE_WEBHOOK_SECRET) or ""
    signing_secrets = tuple(part.strip() for part in raw.split(",") if part.strip())
    return StripeWebhooks(signing_secrets, get_config().stripe_webhook_tolerance_seconds)


@lru_cache(maxsize=4)
def _stripe_payments(api_key: str, api_base: str | None) -> PaymentProvider:
    from orders.adapters.payments.stripe_adapter import StripePayments

    return StripePayments(api_key, api_base)


@per_environment
def _apple_webhooks() -> WebhookAdapter:
    from orders.adapters.payments.apple_adapter import AppleWebhooks

    return AppleWebhooks.from_config(get_config())


@per_environment
def _google_webhooks() -> WebhookAdapter:
    from orders.adapters.payments.google_adapter import GoogleWebhooks

    return GoogleWebhooks.from_config(get_config())
