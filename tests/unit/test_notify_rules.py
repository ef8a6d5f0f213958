"""Change detection, templates and channel choice: pure functions, no AWS."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import pytest

from orders.dal.dynamo import from_item
from orders.dal.payments import PaymentsRepository
from orders.logic import changes, templates
from orders.logic.notify import plan_deliveries
from orders.models.notification import Channel, Device, Message, Platform, Preferences
from orders.models.payment import LedgerEntry, PaymentEventKind, PaymentOutcome, Provider

ORDER = {
    "type": "ORDER",
    "order_id": "ord_1",
    "user_id": "u1",
    "status": "PAID",
    "version": 2,
    "currency": "USD",
    "total": 5500,
    "subtotal": 5000,
    "shipping_fee": 500,
    "items": [{"sku": "tee", "name": "Logo Tee", "kind": "physical", "quantity": 2, "line_total": 5000}],
    "updated_at": "2026-11-22T04:00:00.000000Z",
}


@pytest.mark.parametrize(
    ("old", "new", "event", "notify"),
    [
        (None, "PENDING_PAYMENT", "order.created", False),
        ("PENDING_PAYMENT", "PAID", "order.paid", True),
        ("PAYMENT_FAILED", "PAID", "order.paid", True),
        ("PENDING_PAYMENT", "PAYMENT_FAILED", "order.payment_failed", True),
        ("PAID", "PENDING_SHIPMENT", "order.awaiting_shipment", False),
        ("PENDING_SHIPMENT", "SHIPPED", "order.shipped", True),
        ("SHIPPED", "DELIVERED", "order.delivered", True),
        ("DELIVERED", "COMPLETED", "order.completed", False),
        ("PAID", "COMPLETED", "order.completed", False),
        ("PENDING_PAYMENT", "CANCELLED", "order.cancelled", True),
        ("DELIVERED", "REFUNDED", "order.refunded", False),
    ],
)
def test_order_rules(old: str | None, new: str, event: str, notify: bool) -> None:
    change = changes.detect({**ORDER, "status": old} if old else None, {**ORDER, "status": new})
    assert change is not None
    assert (change.event, change.notify_user, change.kind) == (event, notify, "order")
    assert change.old_status == old
    assert change.key == "order#ord_1#v2"


@pytest.mark.parametrize(
    ("kind", "old", "new", "event", "notify"),
    [
        ("REFUND", None, "PENDING_REVIEW", "refund.requested", False),
        ("REFUND", "PENDING_REVIEW", "APPROVED", "refund.approved", True),
        ("REFUND", "PENDING_REVIEW", "REJECTED", "refund.rejected", True),
        ("REFUND", "APPROVED", "SUCCEEDED", "refund.completed", True),
        ("REFUND", "APPROVED", "FAILED", "refund.failed", True),
        ("TICKET", None, "OPEN", "ticket.opened", False),
        ("TICKET", "OPEN", "ANSWERED", "ticket.answered", True),
        ("TICKET", "ANSWERED", "OPEN", "ticket.reopened", False),
        ("TICKET", "OPEN", "RESOLVED", "ticket.resolved", True),
    ],
)
def test_refund_ticket_payment_rules(kind: str, old: str | None, new: str, event: str, notify: bool) -> None:
    item: dict[str, Any] = {
        "type": kind,
        "order_id": "ord_1",
        "refund_id": "r1",
        "ticket_id": "t1",
        "amount": 100,
        "currency": "USD",
    }
    change = changes.detect({**item, "status": old} if old else None, {**item, "status": new})
    assert change is not None
    assert (change.event, change.notify_user) == (event, notify)
    # no version on these items: the new status makes the change unique
    assert change.key.endswith(f"#{new}")
    assert change.source == f"orders.{kind.lower()}"


def ledger_item(outcome: PaymentOutcome) -> dict[str, Any]:
    """The item the payments DAL writes for one provider event, as notify reads it off the stream."""
    entry = LedgerEntry(
        provider=Provider.STRIPE,
        event_id="evt_1",
        event_type="payment_intent.succeeded",
        kind=PaymentEventKind.SUCCEEDED,
        order_id="ord_1",
        amount=100,
        currency="USD",
        payment_reference="pi_1",
        received_at=datetime(2026, 11, 22, tzinfo=UTC),
        outcome=outcome,
    )
    put = PaymentsRepository("OrdersTable").ledger_put(entry)
    return from_item(cast("dict[str, Any]", put["Put"]["Item"]))


@pytest.mark.parametrize(
    ("outcome", "event"),
    [
        (PaymentOutcome.PAID, "payment.succeeded"),
        (PaymentOutcome.PAYMENT_FAILED, "payment.failed"),
        (PaymentOutcome.REFUNDED, "payment.refunded"),
        (PaymentOutcome.OWN_REFUND, "payment.refunded"),
        (PaymentOutcome.RENEWED, "payment.renewed"),
        (PaymentOutcome.AMOUNT_MISMATCH, "payment.anomaly"),
        (PaymentOutcome.PAID_WHILE_CANCELLED, "payment.anomaly"),
    ],
)
def test_payment_ledger_entries_go_downstream_by_outcome_without_messaging_the_user(
    outcome: PaymentOutcome, event: str
) -> None:
    # Given the ledger entry the webhook writes (once per provider event)
    change = changes.detect(None, ledger_item(outcome))
    # Then it is a downstream event keyed on the provider event, and the user is not messaged
    assert change is not None
    assert (change.event, change.notify_user, change.entity_id) == (event, False, "evt_1")
    assert change.at.startswith("2026-11-22")


@pytest.mark.parametrize("outcome", [PaymentOutcome.STALE, PaymentOutcome.REFUND_ALREADY_RECORDED])
def test_ledger_entries_that_change_nothing_are_not_events(outcome: PaymentOutcome) -> None:
    assert changes.detect(None, ledger_item(outcome)) is None


@pytest.mark.parametrize(
    "new",
    [
        {"type": "NOTIFICATION", "status": "SENT"},
        {"type": "TIMELINE", "to_status": "PAID"},
        {"type": "EVENT", "status": "SENT"},
        {"type": "PREFERENCES"},
        {"type": "SOMETHING_NEW", "status": "X"},
        {"PK": "no type at all"},
    ],
)
def test_items_notify_does_not_know_are_ignored(new: dict[str, Any]) -> None:
    assert changes.detect(None, new) is None


def test_no_change_without_a_status_change_or_on_delete() -> None:
    assert changes.detect(ORDER, {**ORDER, "refunded_total": 100}) is None
    assert changes.detect(ORDER, None) is None
    assert changes.detect({**ORDER, "status": "COMPLETED"}, {**ORDER, "status": "PENDING_PAYMENT"}) is None


@pytest.mark.parametrize(
    "broken",
    [
        {"type": "ORDER", "order_id": "o", "version": 2},  # no status
        {"type": "ORDER", "status": "PAID", "version": 2},  # no order_id
        {"type": "ORDER", "order_id": "o", "status": {"M": {}}},  # a status that is not a string
        {"type": "REFUND", "order_id": "o", "status": "APPROVED"},  # no refund_id
        {"type": "ORDER", "order_id": "o", "status": "PAID", "version": "two"},
    ],
)
def test_malformed_items_of_known_kinds_are_poison(broken: dict[str, Any]) -> None:
    with pytest.raises(changes.MalformedRecord):
        changes.detect(None, broken)


def test_event_detail_schema() -> None:
    change = changes.detect({**ORDER, "status": "PENDING_PAYMENT", "version": 1}, ORDER)
    assert change is not None
    detail = changes.event_detail(change)
    assert detail == {
        "event_id": "order#ord_1#v2",
        "event": "order.paid",
        "kind": "order",
        "order_id": "ord_1",
        "user_id": "u1",
        "old_status": "PENDING_PAYMENT",
        "new_status": "PAID",
        "version": 2,
        "at": "2026-11-22T04:00:00.000000Z",
        "currency": "USD",
        "amounts": {"total": 5500, "subtotal": 5000, "shipping_fee": 500},
        "items": [{"sku": "tee", "name": "Logo Tee", "kind": "physical", "quantity": 2, "line_total": 5000}],
    }


# --- templates ---------------------------------------------------------------------------------
EVENTS_WITH_TEMPLATES = [rule.event for rule in changes.RULES if rule.notify_user]


@pytest.mark.parametrize("event", EVENTS_WITH_TEMPLATES)
@pytest.mark.parametrize("locale", templates.LOCALES)
def test_every_user_event_has_a_template_in_every_locale(event: str, locale: str) -> None:
    assert event in templates.TEMPLATES[locale]
    values = templates.context(
        {**ORDER, "amount": 1250, "ticket_id": "t1", "carrier": "DHL", "tracking_number": "JD1", "sku": "wool-1"},
        None,
        locale,
    )
    message = templates.render(event, locale, values)
    # Order events name the order; a listing (a merchant's product, outside any order) names its sku.
    assert ("wool-1" if event.startswith("listing.") else "ord_1") in message.subject + message.short
    assert "{" not in message.subject + message.body + message.short
    assert 0 < len(message.short) <= 160


def test_templates_carry_what_the_user_needs() -> None:
    values = templates.context({**ORDER, "carrier": "DHL", "tracking_number": "JD0123"}, None, "en")
    shipped = templates.render("order.shipped", "en", values)
    assert "DHL" in shipped.body
    assert "JD0123" in shipped.short
    assert "- Logo Tee x2: USD 50.00" in shipped.body
    paid = templates.render("order.paid", "en", values)
    assert "USD 55.00" in paid.body
    assert "ships" in paid.body  # next step for physical goods
    refund = {"type": "REFUND", "order_id": "ord_1", "refund_id": "r1", "amount": 1250, "currency": "USD"}
    completed = templates.render("refund.completed", "zh-CN", templates.context(refund, ORDER, "zh-CN"))
    assert completed.subject == "退款 USD 12.50 已完成"


def test_shipment_sub_document_is_read_too() -> None:
    values = templates.context({**ORDER, "shipment": {"carrier": "UPS", "tracking_number": "1Z9"}}, None, "en")
    assert "UPS 1Z9" in templates.render("order.shipped", "en", values).short


def test_missing_values_render_as_a_dash() -> None:
    message = templates.render("order.shipped", "en", templates.context(ORDER, None, "en"))
    assert "with -, tracking number -" in message.body


@pytest.mark.parametrize(
    ("locale", "chosen"),
    [
        ("zh-CN", "zh-CN"),
        ("zh", "zh-CN"),
        ("zh_Hans_CN", "zh-CN"),
        ("zh-TW", "en"),
        ("fr-FR", "en"),
        ("en-GB", "en"),
        (None, "en"),
        ("", "en"),
    ],
)
def test_locale_fallback(locale: str | None, chosen: str) -> None:
    assert templates.normalize_locale(locale) == chosen


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (5500, "USD", "USD 55.00"),
        (7, "EUR", "EUR 0.07"),
        (1200, "JPY", "JPY 1,200"),
        (123456789, "CNY", "CNY 1,234,567.89"),
    ],
)
def test_money_formatting(amount: int, currency: str, text: str) -> None:
    assert templates.format_money(amount, currency) == text


# --- channels ----------------------------------------------------------------------------------
NOW = datetime(2026, 11, 22, tzinfo=UTC)
MESSAGE = Message(subject="s", body="b", short="t")


def device(device_id: str, enabled: bool = True) -> Device:
    return Device(
        user_id="u1",
        device_id=device_id,
        platform=Platform.IOS,
        endpoint_arn=f"arn:endpoint/{device_id}",
        enabled=enabled,
        created_at=NOW,
    )


def prefs(*channels: Channel, email: str | None = None, phone: str | None = None) -> Preferences:
    return Preferences(user_id="u1", channels=list(channels), email=email, phone=phone, updated_at=NOW)


def test_no_preferences_pushes_to_live_devices() -> None:
    deliveries = plan_deliveries(None, [device("d1"), device("d2", enabled=False)], MESSAGE, lambda: "x@example.com")
    assert [(d.channel, d.to, d.device_id) for d in deliveries] == [(Channel.PUSH, "arn:endpoint/d1", "d1")]


def test_no_preferences_no_device_emails_the_known_address_or_nothing() -> None:
    assert [d.to for d in plan_deliveries(None, [], MESSAGE, lambda: "x@example.com")] == ["x@example.com"]
    assert plan_deliveries(None, [], MESSAGE, lambda: None) == []


def test_preferences_choose_channels_and_skip_missing_addresses() -> None:
    chosen = prefs(Channel.SMS, Channel.EMAIL, Channel.PUSH, phone="+447700900123")
    deliveries = plan_deliveries(chosen, [device("d1")], MESSAGE, lambda: None)
    assert [(d.channel, d.to) for d in deliveries] == [
        (Channel.SMS, "+447700900123"),
        (Channel.PUSH, "arn:endpoint/d1"),
    ]


def test_empty_channel_list_opts_out() -> None:
    assert plan_deliveries(prefs(), [device("d1")], MESSAGE, lambda: "x@example.com") == []
