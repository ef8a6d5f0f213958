"""OrdersTable single-table key layout.

    item            PK                SK                   GSI1 (user, by time)        GSI2 (user+status, by time)
    order           ORDER#<id>        #ORDER               USER#<uid> / <ts>#<id>      USER#<uid>#<status> / <ts>#<id>
    timeline event  ORDER#<id>        #TL#<version:010d>   -                           -
    refund          ORDER#<id>        REFUND#<refund_id>   -                           -

    item            GSI3 (work queues, by due time)
    refund          QUEUE#REFUND#PENDING_REVIEW / <review_due_at>#<refund_id>   only while awaiting review

A refund lives under its order, so an order's refunds are one Query (SK begins_with "REFUND#")
and the refund's own writes can share a transaction with the order's. Its GSI3 keys (and its
task token) are written by the refund workflow's review task and removed by the decision, so the
reviewer queue holds exactly the refunds a reviewer can decide, oldest due first.
The refund id embeds the order id (see orders.models.refund), so GET /refunds/{id} is a GetItem.

Timeline sort keys sit right after the order's ("#ORDER" < "#TL#"), and every other item kind
of an order uses a prefix without "#", so one Query with SK BETWEEN "#ORDER" AND "#TL$" reads an
order and its whole timeline and nothing else. GSI3 (QUEUE#<kind>#<status> / <due>#<id>) is for
work queues (refunds to review, tickets to answer); GSI attributes are set only on the items
that belong in an index, so the indexes stay sparse.
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


REFUND_PREFIX = "REFUND#"
REFUND_REVIEW_QUEUE = "QUEUE#REFUND#PENDING_REVIEW"


def refund_sk(refund_id: str) -> str:
    return f"{REFUND_PREFIX}{refund_id}"


def queue_sk(due_at: str, item_id: str) -> str:
    return f"{due_at}#{item_id}"
