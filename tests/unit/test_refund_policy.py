"""Refund request rules (pure: no AWS)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from orders import errors
from orders.config import Config
from orders.logic.refunds import plan_request
from orders.models.common import utcnow
from orders.models.order import Order, OrderLine, OrderStatus
from orders.models.refund import SYSTEM_AUTO, AutoApprovals, RefundStatus, order_id_of

ORDER_ID = "ord_" + "a" * 32
CONFIG = Config(AUTO_APPROVE_MAX_MINOR=1000, REFUND_WINDOW_DAYS=30, REVIEW_TIMEOUT_SECONDS=60)


def order(status: OrderStatus = OrderStatus.PAID, *, age_days: int = 1, **fields: object) -> Order:
    created = utcnow() - timedelta(days=age_days)
    line = OrderLine(sku="mug", name="Mug", kind="physical", unit_price=3000, quantity=1, line_total=3000)
    data: dict[str, Any] = {"order_id": ORDER_ID, "user_id": "u1", "status": status, "items": [line], "currency": "USD"}
    data |= {"subtotal": 3000, "shipping_fee": 0, "total": 3000, "created_at": created, "updated_at": created}
    return Order.model_validate(data | fields)


def test_a_large_refund_waits_for_review_and_reserves_its_amount() -> None:
    now = utcnow()
    refund, after, event = plan_request(order(), amount=2000, reason="r", now=now, config=CONFIG)
    assert refund.status is RefundStatus.PENDING_REVIEW
    assert refund.review_due_at == now + timedelta(seconds=60)
    assert (after.refund_pending_id, after.refund_pending_amount, after.refundable) == (
        refund.refund_id,
        2000,
        0 + 1000,
    )
    assert (event.type, event.version, after.version) == ("REFUND_REQUESTED", 2, 2)
    assert order_id_of(refund.refund_id) == ORDER_ID


def test_a_small_refund_is_approved_by_policy() -> None:
    refund, _, _ = plan_request(order(), amount=1000, reason="r", now=utcnow(), config=CONFIG)
    assert (refund.status, refund.decided_by, refund.review_due_at) == (RefundStatus.APPROVED, SYSTEM_AUTO, None)


def test_the_default_amount_is_everything_still_refundable() -> None:
    refund, _, _ = plan_request(order(refunded_total=500), amount=None, reason="r", now=utcnow(), config=CONFIG)
    assert refund.amount == 2500


@pytest.mark.parametrize(
    ("subject", "error"),
    [
        (order(OrderStatus.PENDING_PAYMENT), errors.OrderNotRefundable),
        (order(OrderStatus.CANCELLED), errors.OrderNotRefundable),
        (order(OrderStatus.REFUNDED), errors.OrderNotRefundable),
        (order(age_days=31), errors.RefundWindowClosed),
        (order(refund_pending_id="rf_x", refund_pending_amount=10), errors.RefundAlreadyPending),
    ],
)
def test_refused_requests(subject: Order, error: type[errors.DomainError]) -> None:
    with pytest.raises(error):
        plan_request(subject, amount=100, reason="r", now=utcnow(), config=CONFIG)


@pytest.mark.parametrize("amount", [0, -1, 3001])
def test_amount_outside_what_is_refundable(amount: int) -> None:
    with pytest.raises(errors.RefundAmountInvalid):
        plan_request(order(), amount=amount, reason="r", now=utcnow(), config=CONFIG)


def test_refund_ids_that_are_not_ours_name_no_order() -> None:
    assert order_id_of("rf_nope") is None
    assert order_id_of("../ORDER#x") is None


# --- auto-approval limits: per order (running total) and per user (rolling window) ----------------
def test_small_refunds_that_add_up_past_the_limit_are_reviewed() -> None:
    # Given an order of 3000 of which 1000 was already refunded without review
    refunded = order(refunded_total=1000)
    # When another small refund is asked for
    refund, _, _ = plan_request(refunded, amount=900, reason="r", now=utcnow(), config=CONFIG)
    # Then the running total (1900) is over the limit (1000): a reviewer decides
    assert (refund.status, refund.decided_by) == (RefundStatus.PENDING_REVIEW, None)


def test_the_running_total_up_to_the_limit_is_still_approved_by_policy() -> None:
    refund, _, _ = plan_request(order(refunded_total=400), amount=600, reason="r", now=utcnow(), config=CONFIG)
    assert refund.status is RefundStatus.APPROVED


def test_a_user_over_the_rolling_limit_is_reviewed() -> None:
    now = utcnow()
    config = CONFIG.model_copy(update={"auto_approve_user_max_minor": 1500, "auto_approve_user_window_hours": 24})
    # Given 1200 approved automatically for this user an hour ago
    recent = AutoApprovals(user_id="u1").add("USD", 1200, now - timedelta(hours=1), 24)
    # When a refund of 400 would take the user to 1600 within the window
    refund, _, _ = plan_request(order(), amount=400, reason="r", now=now, config=config, approvals=recent)
    # Then it waits for review
    assert refund.status is RefundStatus.PENDING_REVIEW
    # And approvals older than the window, or in another currency, do not count
    old = AutoApprovals(user_id="u1").add("USD", 1200, now - timedelta(hours=30), 24).add("EUR", 1200, now, 24)
    refund, _, _ = plan_request(order(), amount=400, reason="r", now=now, config=config, approvals=old)
    assert refund.status is RefundStatus.APPROVED


def test_the_rolling_record_drops_hours_outside_the_window() -> None:
    now = utcnow()
    record = AutoApprovals(user_id="u1").add("USD", 100, now - timedelta(hours=50), 24).add("USD", 200, now, 24)
    assert list(record.amounts.values()) == [200]
    assert record.total("USD", now, 24) == 200
    assert record.version == 2
