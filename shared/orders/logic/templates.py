# ruff: noqa: RUF001  (Chinese text uses full-width punctuation on purpose)
"""User-facing message templates, per event and locale (English and Simplified Chinese).

Pure: a change's data goes in, a :class:`Message` (email subject + body, short text for SMS and
push) comes out. A locale we have no templates for falls back to English; a missing value (an
order without a tracking number yet) renders as a dash, never as an error.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from orders.models.notification import Message

DEFAULT_LOCALE = "en"
# ISO 4217 currencies without minor units; every other one we sell in has two.
_ZERO_DECIMAL = frozenset({"JPY", "KRW", "VND", "CLP", "ISK", "HUF", "TWD", "UGX"})


@dataclass(frozen=True)
class Template:
    subject: str
    body: str
    short: str


_EN: dict[str, Template] = {
    "order.paid": Template(
        "Purchase confirmed: order {order_id}",
        "Thank you! We received your payment of {total} for order {order_id}.\n\nItems:\n{items}\n\n"
        "Next: {next_step_paid}",
        "Payment of {total} confirmed for order {order_id}.",
    ),
    "order.payment_failed": Template(
        "Payment failed for order {order_id}",
        "Your payment of {total} for order {order_id} did not go through.\n\nItems:\n{items}\n\n"
        "Next: open the order in the app and pay again; the order stays reserved until it expires.",
        "Payment for order {order_id} failed. Open the app to try again.",
    ),
    "order.shipped": Template(
        "Order {order_id} has shipped",
        "Your order {order_id} is on its way with {carrier}, tracking number {tracking_number}.\n\n"
        "Items:\n{items}\n\nNext: track it with the carrier; we will tell you when it is delivered.",
        "Order {order_id} shipped: {carrier} {tracking_number}.",
    ),
    "order.delivered": Template(
        "Order {order_id} was delivered",
        "Your order {order_id} was delivered.\n\nItems:\n{items}\n\n"
        "Next: confirm receipt in the app, or rate your order. Something wrong? Open a ticket.",
        "Order {order_id} delivered. Confirm receipt in the app.",
    ),
    "tracking.picked_up": Template(
        "Order {order_id}: parcel picked up",
        "{carrier} picked up the parcel of your order {order_id} (tracking number {tracking_number}).\n\n"
        "Next: we will tell you when it is on its way.",
        "Order {order_id}: {carrier} picked up your parcel.",
    ),
    "tracking.in_transit": Template(
        "Order {order_id}: parcel in transit",
        "The parcel of your order {order_id} is in transit with {carrier} (tracking number {tracking_number}). "
        "Last seen: {location}.\n\nNext: we will tell you when it is out for delivery.",
        "Order {order_id}: parcel in transit.",
    ),
    "tracking.out_for_delivery": Template(
        "Order {order_id}: out for delivery today",
        "The parcel of your order {order_id} is out for delivery with {carrier} (tracking number "
        "{tracking_number}).\n\nNext: make sure someone can receive it.",
        "Order {order_id}: out for delivery today.",
    ),
    "tracking.exception": Template(
        "Order {order_id}: a problem with your parcel",
        "{carrier} reported a problem delivering the parcel of your order {order_id} (tracking number "
        "{tracking_number}).\n\nNext: our support team has opened a ticket and will contact you; "
        "you can follow it in the app.",
        "Order {order_id}: delivery problem; support will contact you.",
    ),
    "order.cancelled": Template(
        "Order {order_id} was cancelled",
        "Your order {order_id} ({total}) was cancelled. {cancel_payment}\n\nItems:\n{items}\n\n"
        "Next: you can place a new order at any time.",
        "Order {order_id} was cancelled; {cancel_payment_short}.",
    ),
    "refund.approved": Template(
        "Refund approved for order {order_id}",
        "Your refund of {refund_amount} for order {order_id} was approved.\n\n"
        "Next: we are sending the money back to your original payment method; we will confirm when it is done.",
        "Refund of {refund_amount} approved for order {order_id}.",
    ),
    "refund.rejected": Template(
        "Refund request for order {order_id} declined",
        "Your refund request of {refund_amount} for order {order_id} was declined.\n\nNote: {note}\n\n"
        "Next: if you disagree, open a support ticket on the order.",
        "Refund request for order {order_id} was declined. See the app for details.",
    ),
    "refund.completed": Template(
        "Refund of {refund_amount} completed",
        "We refunded {refund_amount} for order {order_id} to your original payment method.\n\n"
        "Next: depending on your bank it can take a few days to appear on your statement.",
        "Refund of {refund_amount} for order {order_id} completed.",
    ),
    "refund.failed": Template(
        "Problem with your refund for order {order_id}",
        "We could not complete your refund of {refund_amount} for order {order_id}. Our team has been alerted.\n\n"
        "Next: nothing to do on your side; support will contact you.",
        "Refund for order {order_id} hit a problem; support will contact you.",
    ),
    "ticket.answered": Template(
        "Support replied about order {order_id}",
        "Our support team answered your ticket {ticket_id} about order {order_id}.\n\n"
        "Next: read the reply in the app and answer there if you need more help.",
        "Support answered your ticket about order {order_id}.",
    ),
    "ticket.resolved": Template(
        "Ticket {ticket_id} resolved",
        "Your ticket {ticket_id} about order {order_id} was marked resolved.\n\n"
        "Next: not solved for you? Reply in the app and it reopens.",
        "Your ticket about order {order_id} was resolved.",
    ),
    "listing.auto_rejected": Template(
        "Listing {sku} was not accepted",
        "Your listing {listing_id} for {sku} did not pass the automatic checks ({reason_code}).\n\n{reason}\n\n"
        "Next: fix it and submit it again; the live product (if any) is unchanged.",
        "Listing {sku} refused: {reason_code}.",
    ),
    "listing.approved": Template(
        "Listing {sku} approved",
        "Your listing {listing_id} for {sku} was approved and is live in the catalog.\n\nNote: {note}",
        "Listing {sku} approved: it is live.",
    ),
    "listing.rejected": Template(
        "Listing {sku} declined",
        "Your listing {listing_id} for {sku} was declined ({reason_code}).\n\n{reason}\n\nNote: {note}\n\n"
        "Next: the live product (if any) is unchanged; you can submit a new listing.",
        "Listing {sku} declined: {reason_code}.",
    ),
    "listing.failed": Template(
        "Problem reviewing listing {sku}",
        "The review of your listing {listing_id} for {sku} could not complete; our team has been alerted.\n\n"
        "Next: the live product (if any) is unchanged; you can submit the listing again.",
        "Review of listing {sku} hit a problem; please submit it again.",
    ),
}

_ZH: dict[str, Template] = {
    "order.paid": Template(
        "购买成功：订单 {order_id}",
        "感谢您的购买！我们已收到订单 {order_id} 的付款 {total}。\n\n商品：\n{items}\n\n下一步：{next_step_paid}",
        "订单 {order_id} 已付款 {total}。",
    ),
    "order.payment_failed": Template(
        "订单 {order_id} 支付失败",
        "订单 {order_id} 的付款 {total} 未成功。\n\n商品：\n{items}\n\n"
        "下一步：请在应用中打开订单重新支付；订单在过期前会为您保留。",
        "订单 {order_id} 支付失败，请在应用中重新支付。",
    ),
    "order.shipped": Template(
        "订单 {order_id} 已发货",
        "您的订单 {order_id} 已由 {carrier} 发出，运单号 {tracking_number}。\n\n商品：\n{items}\n\n"
        "下一步：可在承运商处查询物流；送达时我们会通知您。",
        "订单 {order_id} 已发货：{carrier} {tracking_number}。",
    ),
    "order.delivered": Template(
        "订单 {order_id} 已送达",
        "您的订单 {order_id} 已送达。\n\n商品：\n{items}\n\n下一步：请在应用中确认收货或评价订单；如有问题请提交工单。",
        "订单 {order_id} 已送达，请在应用中确认收货。",
    ),
    "tracking.picked_up": Template(
        "订单 {order_id}：包裹已揽收",
        "{carrier} 已揽收您订单 {order_id} 的包裹（运单号 {tracking_number}）。\n\n下一步：包裹发出后我们会通知您。",
        "订单 {order_id}：{carrier} 已揽收包裹。",
    ),
    "tracking.in_transit": Template(
        "订单 {order_id}：包裹运输中",
        "您订单 {order_id} 的包裹正由 {carrier} 运输中（运单号 {tracking_number}），最新位置：{location}。\n\n"
        "下一步：派送时我们会通知您。",
        "订单 {order_id}：包裹运输中。",
    ),
    "tracking.out_for_delivery": Template(
        "订单 {order_id}：包裹派送中",
        "您订单 {order_id} 的包裹今天由 {carrier} 派送（运单号 {tracking_number}）。\n\n下一步：请确保有人签收。",
        "订单 {order_id}：包裹今天派送。",
    ),
    "tracking.exception": Template(
        "订单 {order_id}：包裹配送异常",
        "{carrier} 报告您订单 {order_id} 的包裹配送异常（运单号 {tracking_number}）。\n\n"
        "下一步：客服已为您创建工单并会联系您，可在应用中查看。",
        "订单 {order_id}：配送异常，客服将联系您。",
    ),
    "order.cancelled": Template(
        "订单 {order_id} 已取消",
        "您的订单 {order_id}（{total}）已取消。{cancel_payment}\n\n商品：\n{items}\n\n下一步：您可以随时重新下单。",
        "订单 {order_id} 已取消，{cancel_payment_short}。",
    ),
    "refund.approved": Template(
        "订单 {order_id} 退款已批准",
        "订单 {order_id} 的退款 {refund_amount} 已批准。\n\n下一步：款项将退回原支付方式，完成后我们会通知您。",
        "订单 {order_id} 退款 {refund_amount} 已批准。",
    ),
    "refund.rejected": Template(
        "订单 {order_id} 退款申请未通过",
        "订单 {order_id} 的退款申请（{refund_amount}）未通过。\n\n说明：{note}\n\n"
        "下一步：如有异议，请在订单中提交工单。",
        "订单 {order_id} 退款申请未通过，详情请查看应用。",
    ),
    "refund.completed": Template(
        "退款 {refund_amount} 已完成",
        "订单 {order_id} 的 {refund_amount} 已退回原支付方式。\n\n下一步：到账时间取决于您的银行，可能需要几天。",
        "订单 {order_id} 退款 {refund_amount} 已完成。",
    ),
    "refund.failed": Template(
        "订单 {order_id} 退款遇到问题",
        "订单 {order_id} 的退款 {refund_amount} 未能完成，我们的团队已收到提醒。\n\n下一步：您无需操作，客服会联系您。",
        "订单 {order_id} 退款遇到问题，客服会联系您。",
    ),
    "ticket.answered": Template(
        "客服已回复订单 {order_id} 的工单",
        "客服已回复您关于订单 {order_id} 的工单 {ticket_id}。\n\n下一步：请在应用中查看回复，如需帮助可继续回复。",
        "客服已回复您关于订单 {order_id} 的工单。",
    ),
    "ticket.resolved": Template(
        "工单 {ticket_id} 已解决",
        "您关于订单 {order_id} 的工单 {ticket_id} 已标记为解决。\n\n下一步：如问题仍未解决，在应用中回复即可重新打开。",
        "您关于订单 {order_id} 的工单已解决。",
    ),
    "listing.auto_rejected": Template(
        "商品 {sku} 的上架申请未通过",
        "您的上架申请 {listing_id}（{sku}）未通过自动检查（{reason_code}）。\n\n{reason}\n\n"
        "下一步：修改后重新提交；在售商品（如有）保持不变。",
        "商品 {sku} 上架申请未通过：{reason_code}。",
    ),
    "listing.approved": Template(
        "商品 {sku} 的上架申请已通过",
        "您的上架申请 {listing_id}（{sku}）已通过审核，商品已上架。\n\n说明：{note}",
        "商品 {sku} 已通过审核并上架。",
    ),
    "listing.rejected": Template(
        "商品 {sku} 的上架申请被拒绝",
        "您的上架申请 {listing_id}（{sku}）被拒绝（{reason_code}）。\n\n{reason}\n\n说明：{note}\n\n"
        "下一步：在售商品（如有）保持不变，您可以重新提交。",
        "商品 {sku} 上架申请被拒绝：{reason_code}。",
    ),
    "listing.failed": Template(
        "商品 {sku} 审核遇到问题",
        "您的上架申请 {listing_id}（{sku}）审核未能完成，我们的团队已收到提醒。\n\n"
        "下一步：在售商品（如有）保持不变，请重新提交。",
        "商品 {sku} 审核遇到问题，请重新提交。",
    ),
}

_NEXT_STEP_PAID = {
    "en": (
        "we are preparing your parcel and will tell you when it ships.",
        "your items are already in your account.",
    ),
    "zh-CN": ("我们正在备货，发货时会通知您。", "商品已发放到您的账户。"),
}

# A cancelled order: whether money was taken (its payment had gone through before the cancellation
# reached the provider, or money arrived afterwards). Never "not charged" when the user was charged.
_CANCEL_PAYMENT = {
    "en": (
        ("You were not charged.", "you were not charged"),
        (
            "Your payment had already gone through: we are refunding it in full to your original payment "
            "method automatically, and will confirm when it is done.",
            "your payment is being refunded automatically",
        ),
    ),
    "zh-CN": (
        ("未产生扣款。", "未产生扣款"),
        ("您的付款已完成扣款：我们将自动全额退回原支付方式，完成后会通知您。", "付款将自动退回"),
    ),
}

TEMPLATES: Mapping[str, Mapping[str, Template]] = {"en": _EN, "zh-CN": _ZH}
LOCALES = tuple(TEMPLATES)


def normalize_locale(locale: str | None) -> str:
    """The template locale for a user's locale: zh, zh-CN, zh_Hans, zh-Hans-CN → zh-CN; else English."""
    if not locale:
        return DEFAULT_LOCALE
    parts = locale.replace("_", "-").lower().split("-")
    if parts[0] == "zh" and not any(p in ("hant", "tw", "hk", "mo") for p in parts[1:]):
        return "zh-CN"
    return DEFAULT_LOCALE


def has_template(event: str) -> bool:
    return event in _EN


def format_money(amount: object, currency: object) -> str:
    if not isinstance(amount, int) or not isinstance(currency, str):
        return "-"
    if currency in _ZERO_DECIMAL:
        return f"{currency} {amount:,}"
    sign = "-" if amount < 0 else ""
    whole, cents = divmod(abs(amount), 100)
    return f"{sign}{currency} {whole:,}.{cents:02d}"


class _Defaults(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "-"


def context(change_new: Mapping[str, Any], order: Mapping[str, Any] | None, locale: str) -> dict[str, Any]:
    """The values templates use, from the changed item and (for refunds and tickets) its order."""
    order_data = order if order is not None else change_new
    currency = change_new.get("currency") or order_data.get("currency")
    raw_shipment = order_data.get("shipment")
    shipment: Mapping[str, Any] = raw_shipment if isinstance(raw_shipment, dict) else {}
    lines = [line for line in order_data.get("items", []) if isinstance(line, dict)]
    physical = any(line.get("kind") == "physical" for line in lines)
    steps = _NEXT_STEP_PAID.get(locale, _NEXT_STEP_PAID[DEFAULT_LOCALE])
    charged = bool(order_data.get("refund_on_cancel") or order_data.get("stray_charges"))
    cancel_payment = _CANCEL_PAYMENT.get(locale, _CANCEL_PAYMENT[DEFAULT_LOCALE])[1 if charged else 0]
    return {
        "order_id": change_new.get("order_id") or order_data.get("order_id"),
        "ticket_id": change_new.get("ticket_id"),
        "total": format_money(order_data.get("total"), order_data.get("currency")),
        "refund_amount": format_money(change_new.get("amount"), currency),
        "items": "\n".join(
            f"- {line.get('name', line.get('sku'))} x{line.get('quantity')}: "
            f"{format_money(line.get('line_total'), order_data.get('currency'))}"
            for line in lines
        )
        or "-",
        "carrier": order_data.get("carrier") or shipment.get("carrier"),
        "tracking_number": order_data.get("tracking_number") or shipment.get("tracking_number"),
        "note": change_new.get("note") or change_new.get("decision_note"),
        "next_step_paid": steps[0] if physical else steps[1],
        "cancel_payment": cancel_payment[0],
        "cancel_payment_short": cancel_payment[1],
        # listings (a merchant's product or change)
        "listing_id": change_new.get("listing_id"),
        "sku": change_new.get("sku"),
        "reason_code": change_new.get("reason_code"),
        "reason": change_new.get("reason"),
        "location": change_new.get("location"),
    }


def render(event: str, locale: str | None, values: Mapping[str, Any]) -> Message:
    """The message for ``event`` in ``locale`` (English when we have no such locale)."""
    chosen = normalize_locale(locale)
    template = TEMPLATES[chosen].get(event) or TEMPLATES[DEFAULT_LOCALE][event]
    data = _Defaults({k: v for k, v in values.items() if v is not None})
    formatter = string.Formatter()
    return Message(
        subject=formatter.vformat(template.subject, (), data),
        body=formatter.vformat(template.body, (), data),
        short=formatter.vformat(template.short, (), data),
    )
