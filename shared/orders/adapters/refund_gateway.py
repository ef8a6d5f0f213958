"""The provider adapter behind the logic's RefundGateway port (orders.logic.ports).

The refund workflow's execute step calls :func:`refund_gateway` and nothing else. Nothing deployable
can select a stand-in: tests and benchmarks that need the provider to refuse or fail substitute
``local_stack.fake_refunds.FakeRefundGateway`` from outside the layer.

Errors (declared with the port): :class:`TransientProviderError` is worth retrying (the workflow's
Retry matches this class *name*, which is the Lambda error type), :class:`PermanentProviderError`
is not (the workflow's Catch marks the refund FAILED with the cause).
"""

from __future__ import annotations

from orders.cache import per_environment
from orders.logic.ports import PermanentProviderError, ProviderRefund, RefundGateway, TransientProviderError
from orders.models.order import Order
from orders.models.refund import Refund


class ProviderRefundGateway:
    """Refunds at the provider that took the payment, through its adapter (orders.adapters.payments).

    Stripe: a Refund on the order's PaymentIntent, idempotent on the refund id, with the refund id
    in its metadata (so the `charge.refunded` webhook that follows is recognised as ours). App Store
    and Google Play purchases are refunded by the stores themselves: those refunds fail permanently
    here with that cause, and the store's own notification records the refund when it happens.
    """

    def refund(self, *, order: Order, refund: Refund, idempotency_key: str) -> ProviderRefund:
        from orders.adapters.payments import payment_provider
        from orders.errors import ProviderNotConfigured, ProviderRefused, ProviderUnavailable

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


@per_environment
def refund_gateway() -> RefundGateway:
    """The one refund gateway a deployed function uses: the provider that took the payment."""
    return ProviderRefundGateway()


__all__ = [
    "PermanentProviderError",
    "ProviderRefund",
    "ProviderRefundGateway",
    "RefundGateway",
    "TransientProviderError",
    "refund_gateway",
]
