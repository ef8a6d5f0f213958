"""What a stream record means: a small table of rules keyed on the item type and its old/new status.

Pure functions, no AWS. A stream record's images (plain dicts, see ``orders.dal.dynamo.from_item``)
go in; a :class:`Change` (or ``None`` when nothing anyone needs to hear about happened) comes out.

Adding a kind of item (payments, refunds, tickets are built elsewhere) means adding rules here:
each rule names the item ``type``, the status it moves to, optionally the statuses it moves from,
the event name (templates are keyed on it), whether the user is told, and the detail-type
downstream consumers match on. Items this module does not know (NOTIFICATION, TIMELINE, EVENT,
preferences, devices, anything new) yield ``None``: they are never an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from orders.dal import keys
from orders.models.notification import Change


class MalformedRecord(ValueError):
    """A record of a known kind that lacks what its rules need: a poison record."""


@dataclass(frozen=True)
class Kind:
    """How to read one item type: its name on the bus, its id attribute, its detail-type."""

    type: str
    name: str
    id_attr: str
    detail_type: str
    status_attr: str = "status"  # what this item's "status" is called
    # Items under an order name it in ``order_id``; a listing belongs to a merchant instead.
    scope_attr: str = "order_id"


@dataclass(frozen=True)
class Rule:
    type: str
    to_status: str
    event: str
    notify_user: bool
    from_status: frozenset[str | None] | None = None  # None: from any status (or created so)

    def matches(self, item_type: str, old: str | None, new: str) -> bool:
        return (
            item_type == self.type and new == self.to_status and (self.from_status is None or old in self.from_status)
        )


KINDS: Mapping[str, Kind] = {
    k.type: k
    for k in (
        Kind("ORDER", "order", "order_id", "Order Status Changed"),
        # A payment ledger entry is written once per provider event; its outcome is its status.
        Kind("PAYMENT", "payment", "event_id", "Payment Status Changed", status_attr="outcome"),
        Kind("REFUND", "refund", "refund_id", "Refund Status Changed"),
        Kind("TICKET", "ticket", "ticket_id", "Ticket Status Changed"),
        Kind("LISTING", "listing", "listing_id", "Listing Status Changed", scope_attr="merchant_id"),
        # One item per milestone a parcel reaches, written once (orders.dal.tracking).
        Kind("TRACKING", "tracking", "milestone_id", "Tracking Milestone Reached", status_attr="milestone"),
    )
}

CREATED: frozenset[str | None] = frozenset({None})

# First match wins. notify_user=False: downstream teams hear of it, the user is not messaged
# (usually because another rule already tells them, e.g. a full refund is told by refund.completed).
RULES: tuple[Rule, ...] = (
    # --- orders (lifecycle.py) ---
    Rule("ORDER", "PENDING_PAYMENT", "order.created", notify_user=False, from_status=CREATED),
    Rule("ORDER", "PAID", "order.paid", notify_user=True),  # "purchase confirmed"
    Rule("ORDER", "PAYMENT_FAILED", "order.payment_failed", notify_user=True),
    Rule("ORDER", "PENDING_SHIPMENT", "order.awaiting_shipment", notify_user=False),
    Rule("ORDER", "SHIPPED", "order.shipped", notify_user=True),
    Rule("ORDER", "DELIVERED", "order.delivered", notify_user=True),
    Rule("ORDER", "COMPLETED", "order.completed", notify_user=False),
    Rule("ORDER", "CANCELLED", "order.cancelled", notify_user=True),
    Rule("ORDER", "REFUNDED", "order.refunded", notify_user=False),  # the refund item tells the user
    # --- payments: one ledger entry per provider event, by its outcome (orders.models.payment).
    # Finance and customer service hear of them; the user is told by the order's own change. ---
    *(
        Rule("PAYMENT", outcome, event, notify_user=False)
        for event, outcomes in {
            "payment.succeeded": ("PAID",),
            "payment.failed": ("PAYMENT_FAILED", "FAILURE_RECORDED"),
            "payment.refunded": ("REFUND_RECORDED", "REFUNDED", "OWN_REFUND"),
            "payment.renewed": ("RENEWED",),
            # A chargeback: customer service and finance act on it (ops are alarmed by PaymentDisputes).
            "payment.disputed": ("DISPUTE_OPENED",),
            "payment.anomaly": (
                "AMOUNT_MISMATCH",
                "PAID_WHILE_CANCELLED",
                "ALREADY_PAID",
                "REFUND_ANOMALY",
                "NEEDS_RECONCILIATION",
            ),
        }.items()
        for outcome in outcomes
    ),
    # (STALE, REFUND_ALREADY_RECORDED, IGNORED, NOTED and UNKNOWN_ORDER change nothing anyone acts on.)
    # --- refunds: PENDING_REVIEW → APPROVED | REJECTED; APPROVED → SUCCEEDED | FAILED ---
    Rule("REFUND", "PENDING_REVIEW", "refund.requested", notify_user=False),
    Rule("REFUND", "APPROVED", "refund.approved", notify_user=True),
    Rule("REFUND", "REJECTED", "refund.rejected", notify_user=True),
    Rule("REFUND", "SUCCEEDED", "refund.completed", notify_user=True),
    Rule("REFUND", "FAILED", "refund.failed", notify_user=True),
    # --- tickets: OPEN → ANSWERED (support replied) ↔ OPEN (user replied) → RESOLVED ---
    Rule("TICKET", "OPEN", "ticket.opened", notify_user=False, from_status=CREATED),
    Rule("TICKET", "OPEN", "ticket.reopened", notify_user=False),
    Rule("TICKET", "ANSWERED", "ticket.answered", notify_user=True),
    Rule("TICKET", "RESOLVED", "ticket.resolved", notify_user=True),
    # --- listings (a merchant's product or change): PENDING_REVIEW → APPROVED | REJECTED | FAILED, or
    # AUTO_REJECTED at once. The merchant user who submitted it hears the outcome. ---
    Rule("LISTING", "PENDING_REVIEW", "listing.submitted", notify_user=False, from_status=CREATED),
    Rule("LISTING", "AUTO_REJECTED", "listing.auto_rejected", notify_user=True, from_status=CREATED),
    Rule("LISTING", "APPROVED", "listing.approved", notify_user=True),
    Rule("LISTING", "REJECTED", "listing.rejected", notify_user=True),
    Rule("LISTING", "FAILED", "listing.failed", notify_user=True),
    # --- carrier tracking: each milestone once (a late, older event never creates one) ---
    Rule("TRACKING", "picked_up", "tracking.picked_up", notify_user=True, from_status=CREATED),
    Rule("TRACKING", "in_transit", "tracking.in_transit", notify_user=True, from_status=CREATED),
    Rule("TRACKING", "out_for_delivery", "tracking.out_for_delivery", notify_user=True, from_status=CREATED),
    # The order's own SHIPPED → DELIVERED change (order.delivered) tells the user: not twice.
    Rule("TRACKING", "delivered", "tracking.delivered", notify_user=False, from_status=CREATED),
    Rule("TRACKING", "exception", "tracking.exception", notify_user=True, from_status=CREATED),
)


def rule_for(item_type: str, old_status: str | None, new_status: str) -> Rule | None:
    for rule in RULES:
        if rule.matches(item_type, old_status, new_status):
            return rule
    return None


def detect(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> Change | None:
    """The change between two images of one item, or ``None`` when nobody needs to hear of it.

    Deletions and writes that keep the status (a partial refund raising ``refunded_total``, a
    retried idempotent write) are not changes here. Raises :class:`MalformedRecord` for an item of
    a known kind that cannot be read: it is reported as a batch item failure, never skipped silently.
    """
    if new is None:
        return None
    kind = KINDS.get(str(new.get("type", "")))
    if kind is None:
        return None
    new_status = new.get(kind.status_attr)
    if not isinstance(new_status, str) or not new_status:
        raise MalformedRecord(f"{kind.type} item without {kind.status_attr}")
    old_status = old.get(kind.status_attr) if old else None
    if old_status is not None and not isinstance(old_status, str):
        raise MalformedRecord(f"{kind.type} old image with a non-string status")
    if old_status == new_status:
        return None
    rule = rule_for(kind.type, old_status, new_status)
    if rule is None:
        return None
    entity_id = new.get(kind.id_attr)
    scope = new.get(kind.scope_attr)
    if not isinstance(entity_id, str) or not entity_id or not isinstance(scope, str) or not scope:
        raise MalformedRecord(f"{kind.type} item without {kind.id_attr} / {kind.scope_attr}")
    order_id = scope if kind.scope_attr == "order_id" else None
    outbox_pk = keys.order_pk(scope) if order_id else keys.merchant_pk(scope)
    version = new.get("version")
    if version is not None and (not isinstance(version, int) or isinstance(version, bool)):
        raise MalformedRecord(f"{kind.type} item with a non-integer version")
    user_id = new.get("user_id")
    at = (
        new.get("updated_at")
        or new.get("created_at")
        or new.get("requested_at")
        or new.get("received_at")
        or new.get("submitted_at")
        or ""
    )
    return Change(
        kind=kind.name,
        event=rule.event,
        detail_type=kind.detail_type,
        entity_id=entity_id,
        order_id=order_id,
        user_id=user_id if isinstance(user_id, str) and user_id else None,
        old_status=old_status,
        new_status=new_status,
        version=version,
        at=str(at),
        notify_user=rule.notify_user,
        new=dict(new),
        old=dict(old) if old else None,
        outbox_pk=outbox_pk,
    )


# Attributes that never leave the service on the bus: keys, index attributes, secrets.
_PRIVATE = frozenset({"PK", "SK", "type", "task_token", "shipping_address"})
_AMOUNTS = ("total", "subtotal", "shipping_fee", "refunded_total", "amount")


def event_detail(change: Change) -> dict[str, Any]:
    """The documented EventBridge detail of a change (docs/events.md)."""
    new = change.new
    detail: dict[str, Any] = {
        "event_id": change.key,
        "event": change.event,
        "kind": change.kind,
        f"{change.kind}_id": change.entity_id,
        "order_id": change.order_id,
        "user_id": change.user_id,
        "old_status": change.old_status,
        "new_status": change.new_status,
        "version": change.version,
        "at": change.at,
        "currency": new.get("currency"),
        "amounts": {name: new[name] for name in _AMOUNTS if isinstance(new.get(name), int)},
    }
    extra = {
        key: new[key]
        for key in (
            "carrier",
            "tracking_number",
            "reason",
            "decided_by",
            "category",
            "payment_id",
            "refund_id",
            "merchant_id",
            "sku",
            "reason_code",
        )
        if key in new and key not in detail
    }
    if change.kind == "order":
        detail["items"] = [
            {k: line.get(k) for k in ("sku", "name", "kind", "quantity", "line_total")}
            for line in new.get("items", [])
            if isinstance(line, dict)
        ]
        if isinstance(new.get("shipment"), dict):
            extra.update({k: v for k, v in new["shipment"].items() if k in ("carrier", "tracking_number")})
        if new.get("shipping_address") and change.new_status in ("PENDING_SHIPMENT", "SHIPPED"):
            # The warehouse and the carrier need the address; nobody else gets it.
            detail["shipping_address"] = new["shipping_address"]
    detail.update({k: v for k, v in extra.items() if k not in _PRIVATE})
    return detail
