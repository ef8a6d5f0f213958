"""OrdersTable single-table key layout.

    item            PK                SK                   GSI1 (user, by time)        GSI2 (user+status, by time)
    order           ORDER#<id>        #ORDER               USER#<uid> / <ts>#<id>      USER#<uid>#<status> / <ts>#<id>
    timeline event  ORDER#<id>        #TL#<version:010d>   -                           -
    notification    ORDER#<id>        NOTIFY#<kind>#<entity id>#<v<version>|status>#<channel>[#<device id>]
    bus event       ORDER#<id>        EVENT#<kind>#<entity id>#<v<version>|status>
    preferences     USER#<uid>        PREFERENCES
    device          USER#<uid>        DEVICE#<device id>

Notification and bus-event items are notify's durable dedupe (written before sending, keyed on the
change) and the record of what was sent. USER#<uid> partitions hold a user's contact settings;
they share no attribute with the GSI1PK values "USER#<uid>" of orders (another attribute).
    payment ledger  ORDER#<id>        PAYMENT#<provider>#<event id>   one per provider event: the dedupe record
    provider refund ORDER#<id>        PREFUND#<provider>#<refund id>  counted once into refunded_total
    payment ref     PAYREF#<provider>#<reference>     PAYREF          → order id (events naming only the reference)
    unmatched event WEBHOOK#<provider>#<event id>     UNMATCHED       GSI3 QUEUE#PAYMENT_RECON#OPEN / <received>#<id>
    item            PK                SK                        GSI1 (user, by time)     GSI2 (user+status, by time)
    order           ORDER#<id>        #ORDER                    USER#<uid> / <ts>#<id>   USER#<uid>#<status> / <ts>#<id>
    timeline event  ORDER#<id>        #TL#<version:010d>        -                        -
    feedback        ORDER#<id>        FEEDBACK                  -                        -
    ticket          ORDER#<id>        TICKET#<ticket id>        -                        -
    entitlement     USER#<uid>        ENTITLEMENT#<order id>#<sku>   -                   -

    GSI3 (work queues, sparse: only items waiting for something carry its keys)
    item                        GSI3PK                          GSI3SK
    order, unpaid               QUEUE#ORDER#PENDING_PAYMENT     <expires_at>#<order id>   (also PAYMENT_FAILED)
    order, delivered            QUEUE#ORDER#DELIVERED           <delivered_at>#<order id>
    ticket, waiting for support QUEUE#TICKET#OPEN               <due_at>#<ticket id>
    ticket, waiting for owner   QUEUE#TICKET#ANSWERED           <updated_at>#<ticket id>

Timeline sort keys sit right after the order's ("#ORDER" < "#TL#"), and every other item kind
of an order uses a prefix without "#", so one Query with SK BETWEEN "#ORDER" AND "#TL$" reads an
order and its whole timeline and nothing else. GSI3 (QUEUE#<kind>#<status> / <due>#<id>) is for
work queues (refunds to review, tickets to answer, orders to expire or auto-complete); GSI
attributes are set only on the items that belong in an index, so the indexes stay sparse.

A ticket id embeds its order id (``tkt-<order id>-<suffix>``), so ``/tickets/{id}`` finds the
ticket item under its order with one GetItem and no second lookup item to keep consistent.
Entitlements are one item per (order, sku) under the user: a redelivered grant is refused by
``attribute_not_exists``, and a refund revokes exactly what that order granted.
"""

from __future__ import annotations

ORDER_SK = "#ORDER"
TIMELINE_PREFIX = "#TL#"
TIMELINE_END = "#TL$"  # '$' sorts right after '#': the upper bound of every timeline key

USER_INDEX = "GSI1"
USER_STATUS_INDEX = "GSI2"
QUEUE_INDEX = "GSI3"


def order_pk(order_id: str) -> str:
    return f"ORDER#{order_id}"


def timeline_sk(version: int) -> str:
    return f"{TIMELINE_PREFIX}{version:010d}"


def user_pk(user_id: str) -> str:
    return f"USER#{user_id}"


def user_status_pk(user_id: str, status: str) -> str:
    return f"USER#{user_id}#{status}"


def created_sk(created_at: str, order_id: str) -> str:
    return f"{created_at}#{order_id}"


PREFERENCES_SK = "PREFERENCES"
DEVICE_PREFIX = "DEVICE#"
NOTIFY_PREFIX = "NOTIFY#"
EVENT_PREFIX = "EVENT#"


def device_sk(device_id: str) -> str:
    return f"{DEVICE_PREFIX}{device_id}"


def notify_sk(change_key: str, channel: str, device_id: str | None = None) -> str:
    suffix = f"#{device_id}" if device_id else ""
    return f"{NOTIFY_PREFIX}{change_key}#{channel}{suffix}"


def event_sk(change_key: str) -> str:
    return f"{EVENT_PREFIX}{change_key}"


# --- payments ------------------------------------------------------------------------------
PAYMENT_PREFIX = "PAYMENT#"
PROVIDER_REFUND_PREFIX = "PREFUND#"
UNMATCHED_SK = "UNMATCHED"
PAYMENT_RECON_QUEUE = "QUEUE#PAYMENT_RECON#OPEN"


def payment_sk(provider: str, event_id: str) -> str:
    """Ledger entry of one provider event; its key is the dedupe key, so it is written once."""
    return f"{PAYMENT_PREFIX}{provider}#{event_id}"


def provider_refund_sk(provider: str, refund_id: str) -> str:
    return f"{PROVIDER_REFUND_PREFIX}{provider}#{refund_id}"


def unmatched_pk(provider: str, event_id: str) -> str:
    return f"WEBHOOK#{provider}#{event_id}"


def payment_ref_pk(provider: str, reference: str) -> str:
    return f"PAYREF#{provider}#{reference}"


PAYMENT_REF_SK = "PAYREF"
QUEUE_PK = QUEUE_INDEX + "PK"
QUEUE_SK = QUEUE_INDEX + "SK"
FEEDBACK_SK = "FEEDBACK"
TICKET_PREFIX = "TICKET#"
ENTITLEMENT_PREFIX = "ENTITLEMENT#"


def queue_pk(kind: str, status: str) -> str:
    return f"QUEUE#{kind}#{status}"


def queue_sk(due: str, item_id: str) -> str:
    return f"{due}#{item_id}"


def ticket_sk(ticket_id: str) -> str:
    return f"{TICKET_PREFIX}{ticket_id}"


def entitlement_sk(order_id: str, sku: str) -> str:
    return f"{ENTITLEMENT_PREFIX}{order_id}#{sku}"
