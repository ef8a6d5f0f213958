"""The ports the logic depends on: what it needs from a provider or service, as Protocols.

The logic receives an implementation as an argument; orders.adapters implements them and each
function's handler (functions/<fn>/app.py) wires the adapter in. The errors an adapter raises
through a port are declared here too, so the logic can tell them apart without importing adapters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer

    from orders.models.notification import Message
    from orders.models.order import Order
    from orders.models.payment import PaymentEvent, Provider
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


# --- user channels and the downstream bus (orders.adapters.channels, .eventbus, .contacts) ------
# The SES message tag that names the user an e-mail was for: the e-mail notifier sets it, and the
# bounce/complaint events that come back carry it (orders.logic.email_events reads it).
EMAIL_USER_TAG = "user_id"


class Notifier(Protocol):
    def send(self, to: str, message: Message, *, user_id: str | None = None) -> str:
        """Send ``message`` to ``to``; returns the provider's message id.

        PermanentDeliveryError when the provider refuses the address itself (sending again would not
        help); any other exception is transient (the stream record is retried).
        """
        ...


class EventPublisher(Protocol):
    def publish(self, source: str, detail_type: str, detail: dict[str, Any], at: datetime) -> str:
        """Put one event on the bus; returns its id. Raises when it was not accepted (transient)."""
        ...


class EmailDirectory(Protocol):
    def verified_email(self, user_id: str) -> str | None:
        """The user's verified sign-in e-mail, or None (unknown user, unverified address)."""
        ...


# --- the reports bucket (orders.adapters.report_store) -------------------------------------------
class ReportStore(Protocol):
    bucket: str

    def put(self, key: str, body: str, content_type: str) -> None:
        """Write (or overwrite) the object ``key`` of ``bucket``."""
        ...


# --- payments at the provider the server calls itself (orders.adapters.payments: Stripe) ---------
@dataclass(frozen=True)
class CreatedPayment:
    reference: str
    client_secret: str | None
    status: str
    amount: int
    currency: str


class PaymentGateway(Protocol):
    """Start and stop a payment at the provider. Errors are the domain's (orders.errors): 503
    PROVIDER_NOT_CONFIGURED, 502 PROVIDER_UNAVAILABLE / PROVIDER_REFUSED."""

    def create_payment(self, order_id: str, amount: int, currency: str, *, idempotency_key: str) -> CreatedPayment:
        """One payment per ``idempotency_key``: a retry gets the same one back."""
        ...

    def cancel_payment(self, reference: str) -> CreatedPayment:
        """Cancel a started payment; one that can no longer be cancelled is returned as it is, with its status."""
        ...


# --- provider webhooks (orders.adapters.payments: Stripe, App Store, Google Play) ----------------
class PaymentWebhooks(Protocol):
    def parse(self, provider: Provider, headers: Mapping[str, str], body: bytes) -> PaymentEvent:
        """Verify ``body`` (exactly as received; headers lower-cased) and return what it means.

        Raises only domain errors: a missing, wrong or stale signature, a body that is not JSON.
        """
        ...

    def acknowledge(self, event: PaymentEvent) -> None:
        """Tell the store a purchase was granted (Google Play refunds one not acknowledged in 3 days)."""
        ...

    def answer_consumption_request(self, event: PaymentEvent, *, delivered: bool) -> None:
        """Answer the App Store's CONSUMPTION_REQUEST for ``event``'s transaction."""
        ...


# --- Idempotency-Key records (orders.adapters.idempotency) ---------------------------------------
# Powertools' own persistence interface is the port (its idempotency is used as it is). A function
# passes the factory of its store, called only when a request carries a key; Powertools configures a
# store once, with the settings of the first function recorded in it, so each idempotent function
# has a store of its own.
IdempotencyStore: TypeAlias = "Callable[[], BasePersistenceLayer]"
