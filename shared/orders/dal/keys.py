"""OrdersTable single-table key layout.

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
