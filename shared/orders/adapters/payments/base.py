"""The one interface of every payment-provider webhook adapter, and the provider API port.

An adapter verifies a notification on its raw bytes with the provider's own library, then
parses it into a provider-neutral :class:`PaymentEvent`. It raises only domain errors: a
missing, wrong or stale signature, or a body that is not JSON; nothing is written before it
has returned.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from orders.logic.ports import CreatedPayment
from orders.models.payment import PaymentEvent, Provider


class WebhookAdapter(Protocol):
    provider: Provider

    def parse(self, headers: Mapping[str, str], body: bytes) -> PaymentEvent:
        """Verify ``body`` (exactly as received) and return what it means; headers are lower-cased."""
        ...


@dataclass(frozen=True)
class CreatedRefund:
    refund_id: str
    status: str
    amount: int
    currency: str
    raw: Mapping[str, Any]


class PaymentProvider(Protocol):
    """Calls into a provider's API (Stripe): create a payment, refund one (the logic's PaymentGateway, and more)."""

    provider: Provider

    def create_payment(self, order_id: str, amount: int, currency: str, *, idempotency_key: str) -> CreatedPayment: ...

    def get_payment(self, reference: str) -> CreatedPayment: ...

    def cancel_payment(self, reference: str) -> CreatedPayment:
        """Cancel a started payment so it can no longer be charged; returns the payment as it is after.

        A payment that can no longer be cancelled (already succeeded or processing) is returned as it is,
        with its status, not raised: the caller decides what that means.
        """
        ...

    def refund(
        self,
        payment_reference: str,
        amount: int,
        currency: str,
        *,
        idempotency_key: str,
        metadata: Mapping[str, str],
    ) -> CreatedRefund: ...
