"""A stand-in for the payment provider's refund API, for tests and benchmarks only (never deployed).

The local stack itself needs none: its refunds go through the real provider adapter
(``orders.adapters.refund_gateway.ProviderRefundGateway``) to the fake Stripe over HTTP. Tests that must see
the provider refuse or fail a refund substitute this gateway with :func:`substituted`; markers in the
refund reason steer it:

- ``[fake:fail]``         → ``PermanentProviderError``
- ``[fake:transient=N]``  → ``TransientProviderError`` N times for this key, then success
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import orders.adapters.refund_gateway as gateways
from orders.adapters.refund_gateway import PermanentProviderError, ProviderRefund, RefundGateway, TransientProviderError
from orders.models.order import Order
from orders.models.refund import Refund

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


@contextmanager
def substituted(gateway: RefundGateway | None = None) -> Iterator[RefundGateway]:
    """Within the block, the refund worker's wiring hands out ``gateway`` (a new fake by default)."""
    fake: RefundGateway = gateway or FakeRefundGateway()
    original = gateways.refund_gateway
    gateways.refund_gateway = lambda: fake
    try:
        yield fake
    finally:
        gateways.refund_gateway = original
