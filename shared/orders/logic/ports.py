"""The ports the logic depends on: what it needs from a provider or service, as Protocols.

The logic receives an implementation as an argument; orders.adapters implements them and each
function's handler (functions/<fn>/app.py) wires the adapter in. The errors an adapter raises
through a port are declared here too, so the logic can tell them apart without importing adapters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from orders.models.order import Order
    from orders.models.refund import Refund


# --- refunds at the payment provider (orders.adapters.refund_gateway) ---------------------------
class TransientProviderError(Exception):
    """The provider could not answer now (timeout, 5xx, rate limit): retry with backoff."""


class PermanentProviderError(Exception):
    """The provider refused the refund (charge not refundable, disputed, ...): do not retry."""


@dataclass(frozen=True)
class ProviderRefund:
    provider_refund_id: str
    status: str  # the provider's word, e.g. "succeeded" or "pending"


class RefundGateway(Protocol):
    def refund(self, *, order: Order, refund: Refund, idempotency_key: str) -> ProviderRefund:
        """Refund ``refund.amount`` of ``order``; the same ``idempotency_key`` never refunds twice."""
        ...


# --- push devices (orders.adapters.channels.PushRegistry) ---------------------------------------
class PermanentDeliveryError(Exception):
    """A channel refused for good (bad address, unsubscribed, disabled endpoint): do not retry."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(f"{code}: {message}")


class DeviceRegistry(Protocol):
    def register(self, application_arn: str, token: str, user_id: str) -> str:
        """The push endpoint for ``token`` under ``application_arn``; PermanentDeliveryError if refused."""
        ...
