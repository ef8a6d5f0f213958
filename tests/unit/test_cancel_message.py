"""The cancellation message never says "you were not charged" to a user who was charged."""

from __future__ import annotations

from typing import Any

import pytest

from orders.logic import templates

ORDER: dict[str, Any] = {
    "order_id": "ord_1",
    "status": "CANCELLED",
    "total": 1700,
    "currency": "USD",
    "items": [{"sku": "mug", "name": "Mug", "quantity": 1, "line_total": 1200}],
}


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_a_cancellation_whose_payment_went_through_says_it_is_refunded(locale: str) -> None:
    for charged in ({"refund_on_cancel": True}, {"stray_charges": {"pi_1": 1700}}):
        message = templates.render("order.cancelled", locale, templates.context({**ORDER, **charged}, None, locale))
        text = message.body + message.short
        assert "not charged" not in text and "未产生扣款" not in text
        assert "refund" in text or "退回" in text


def test_a_cancellation_without_a_charge_says_not_charged() -> None:
    message = templates.render("order.cancelled", "en", templates.context(ORDER, None, "en"))
    assert "You were not charged." in message.body
    assert message.short == "Order ord_1 was cancelled; you were not charged."
