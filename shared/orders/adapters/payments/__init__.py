"""Payment-provider adapters: one webhook interface (verify + parse), one API port (pay, refund).

Adapters are made from the configuration (``get_config()``) and the provider's secrets
(``orders.secrets``, cached there with a max age, so a rotated or newly set secret is picked up
without a cold start), and import their provider SDK only when first used.

What the logic receives (its ports, orders.logic.ports): :class:`ProviderPayments` (PaymentGateway)
and :class:`ProviderWebhooks` (PaymentWebhooks). Both are cheap to make and resolve the provider's
adapter on each call, so a handler makes them once (``payment_gateway()``, ``payment_webhooks()``) and
an unset secret only fails a request that needs it.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

from orders.adapters.payments.base import CreatedRefund, PaymentProvider, WebhookAdapter
from orders.cache import per_environment
from orders.config import get_config
from orders.logic.ports import CreatedPayment, PaymentGateway, PaymentWebhooks
from orders.models.payment import PaymentEvent, Provider

__all__ = [
    "CreatedRefund",
    "PaymentProvider",
    "ProviderPayments",
    "ProviderWebhooks",
    "WebhookAdapter",
    "payment_gateway",
    "payment_provider",
    "payment_webhooks",
    "webhook_adapter",
]


class ProviderPayments:
    """The logic's PaymentGateway: the provider API the server calls itself (Stripe), with the key as it is now."""

    def create_payment(self, order_id: str, amount: int, currency: str, *, idempotency_key: str) -> CreatedPayment:
        return payment_provider().create_payment(order_id, amount, currency, idempotency_key=idempotency_key)

    def cancel_payment(self, reference: str) -> CreatedPayment:
        return payment_provider().cancel_payment(reference)


class ProviderWebhooks:
    """The logic's PaymentWebhooks: each provider's webhook adapter, and the stores' call-backs."""

    def parse(self, provider: Provider, headers: Mapping[str, str], body: bytes) -> PaymentEvent:
        return webhook_adapter(provider).parse(headers, body)

    def acknowledge(self, event: PaymentEvent) -> None:
        """Tell the store a purchase was granted (Google Play refunds purchases not acknowledged in 3 days)."""
        if event.provider is Provider.GOOGLE:
            from orders.adapters.payments.google_adapter import GoogleWebhooks

            adapter = _google_webhooks()
            assert isinstance(adapter, GoogleWebhooks)
            adapter.acknowledge(event)

    def answer_consumption_request(self, event: PaymentEvent, *, delivered: bool) -> None:
        """Answer Apple's CONSUMPTION_REQUEST for ``event``'s transaction (App Store Server API)."""
        if event.provider is Provider.APPLE:
            from orders.adapters.payments.apple_adapter import AppleWebhooks

            adapter = _apple_webhooks()
            assert isinstance(adapter, AppleWebhooks)
            adapter.answer_consumption_request(event, delivered)


@per_environment
def payment_gateway() -> PaymentGateway:
    """The PaymentGateway a function hands the logic (made once; the provider is resolved per call)."""
    return ProviderPayments()


@per_environment
def payment_webhooks() -> PaymentWebhooks:
    """The PaymentWebhooks a function hands the logic (made once; each adapter is resolved per call)."""
    return ProviderWebhooks()


def webhook_adapter(provider: Provider) -> WebhookAdapter:
    if provider is Provider.STRIPE:
        return _stripe_webhooks()
    if provider is Provider.APPLE:
        return _apple_webhooks()
    return _google_webhooks()


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
