"""The port for executing a refund at the payment provider, and its local fake.

The refund workflow's execute step calls :func:`refund_gateway` and nothing else; the adapter is
chosen by ``REFUND_GATEWAY`` in one place (:data:`_FACTORIES`), so a provider adapter (Stripe,
App Store, Google Play) plugs in by adding an entry there.

Errors: :class:`TransientProviderError` is worth retrying (the workflow's Retry matches this class
*name*, which is the Lambda error type), :class:`PermanentProviderError` is not (the workflow's
Catch marks the refund FAILED with the cause).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from orders.cache import per_environment
from orders.config import get_config
from orders.models.order import Order
from orders.models.refund import Refund


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


# Markers in the refund reason steer the fake (local stack and tests only):
#   "[fake:fail]"         → PermanentProviderError
#   "[fake:transient=N]"  → TransientProviderError N times for this key, then success
_TRANSIENT = re.compile(r"\[fake:transient=(\d+)\]")


class FakeRefundGateway:
    """An in-memory provider: idempotent on the key, behaviour steered by markers in the reason."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: dict[str, int] = {}
        self.refunds: dict[str, ProviderRefund] = {}

    def refund(self, *, order: Order, refund: Refund, idempotency_key: str) -> ProviderRefund:
        with self._lock:
            if idempotency_key in self.refunds:
                return self.refunds[idempotency_key]
            if "[fake:fail]" in refund.reason:
                raise PermanentProviderError("charge_not_refundable: the fake provider refused the refund")
            transient = _TRANSIENT.search(refund.reason)
            if transient:
                failed = self._failures.get(idempotency_key, 0)
                if failed < int(transient.group(1)):
                    self._failures[idempotency_key] = failed + 1
                    raise TransientProviderError(f"provider unavailable (attempt {failed + 1})")
            result = ProviderRefund(provider_refund_id=f"fake_re_{refund.refund_id}", status="succeeded")
            self.refunds[idempotency_key] = result
            return result


_FAKE = FakeRefundGateway()  # one per process, so retries see the failures counted so far


class ProviderRefundGateway:
    """Refunds at the provider that took the payment, through its adapter (orders.payments).

    Stripe: a Refund on the order's PaymentIntent, idempotent on the refund id, with the refund id
    in its metadata (so the `charge.refunded` webhook that follows is recognised as ours). App Store
    and Google Play purchases are refunded by the stores themselves: those refunds fail permanently
    here with that cause, and the store's own notification records the refund when it happens.
    """

    def refund(self, *, order: Order, refund: Refund, idempotency_key: str) -> ProviderRefund:
        from orders.errors import ProviderNotConfigured, ProviderRefused, ProviderUnavailable
        from orders.payments import payment_provider

        # An automatic refund names the payment it gives back; any other refunds the order's own payment.
        provider = refund.payment_provider or order.payment_provider
        reference = refund.payment_reference or order.payment_reference
        if provider != "stripe" or not reference:
            where = provider or "no provider on record"
            raise PermanentProviderError(f"cannot refund a payment made through {where} from the server")
        try:
            created = payment_provider().refund(
                reference,
                refund.amount,
                refund.currency,
                idempotency_key=idempotency_key,
                metadata={"refund_id": refund.refund_id, "order_id": order.order_id},
            )
        except (ProviderUnavailable, ProviderNotConfigured, ProviderRefused) as exc:
            status = int(exc.details.get("http_status") or 0)
            # No answer, rate limited or a provider-side error: worth retrying. Anything else
            # (charge already refunded, amount too large, disputed) will not change on retry.
            if status == 0 or status == 429 or status >= 500:
                raise TransientProviderError(f"stripe unavailable (HTTP {status or 'no answer'})") from exc
            raise PermanentProviderError(
                f"stripe refused the refund (HTTP {status}, {exc.details.get('stripe_code') or 'no code'})"
            ) from exc
        return ProviderRefund(provider_refund_id=created.refund_id, status=created.status)


_FACTORIES: dict[str, Callable[[], RefundGateway]] = {
    "fake": lambda: _FAKE,
    "provider": ProviderRefundGateway,
}


@per_environment
def refund_gateway() -> RefundGateway:
    name = get_config().refund_gateway
    try:
        return _FACTORIES[name]()
    except KeyError:
        raise RuntimeError(f"REFUND_GATEWAY={name!r} is not one of {sorted(_FACTORIES)}") from None
