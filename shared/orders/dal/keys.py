"""OrdersTable single-table key layout: every item kind, its keys, and the indexes it is in.

    item               PK                             SK                                    notes
    order              ORDER#<id>                     #ORDER                                GSI1/2/4; GSI3 waiting
    timeline event     ORDER#<id>                     #TL#<version:010d>                    one per change
    payment ledger     ORDER#<id>                     PAYMENT#<provider>#<event id>         webhook dedupe record
    provider refund    ORDER#<id>                     PREFUND#<provider>#<refund id>        counted once
    refund             ORDER#<id>                     REFUND#<refund id>                    GSI2 user; GSI3 review
    feedback           ORDER#<id>                     FEEDBACK                              one per order
    ticket             ORDER#<id>                     TICKET#<ticket id>                    GSI3 OPEN / ANSWERED
    notification       ORDER#<id>                     NOTIFY#<change>#<channel>[#<device>]  dedupe + what was sent
    bus event          ORDER#<id>                     EVENT#<change>                        dedupe for the bus
    tracking event     ORDER#<id>                     TRACKEVENT#<occurred_at>#<event id>   dal/tracking.py
    tracking state     ORDER#<id>                     TRACKING, TRACKING#MILESTONE#<status> state; once each
    carrier event seen CARRIEREVENT#<carrier>#<id>    CARRIEREVENT                          callback dedupe, TTL
    preferences        USER#<uid>                     PREFERENCES
    device             USER#<uid>                     DEVICE#<device id>
    entitlement        USER#<uid>                     ENTITLEMENT#<order id>#<sku>          one per order line
    payment reference  PAYREF#<provider>#<reference>  PAYREF                                → order id
    unmatched event    WEBHOOK#<provider>#<event id>  UNMATCHED                             GSI3 reconciliation
    merchant profile   MERCHANT#<merchant>            PROFILE                               shop name, contact
    listing            MERCHANT#<merchant>            LISTING#<listing id>                  GSI3 review queue
    listing sku lock   LISTING_SKU#<sku>              OPEN                                  one open listing per sku

    index  partition (PK)                      sort (SK)                  holds
    GSI1   USER#<uid>                          <created_at>#<order id>    every order of a user
    GSI2   USER#<uid>#<status>                 <created_at>#<order id>    a user's orders in one status
           REFUNDS#USER#<uid>                  <requested_at>#<refund id> every refund of a user (reviewers)
    GSI3   QUEUE#ORDER#PENDING_PAYMENT         <expires_at>#<order id>    unpaid orders to expire (also PAYMENT_FAILED)
           QUEUE#ORDER#DELIVERED               <delivered_at>#<order id>  delivered orders to auto-complete
           QUEUE#ORDER#PENDING_SHIPMENT        <created_at>#<order id>    ops: to ship (also SHIPPED: to deliver)
           QUEUE#REFUND#PENDING_REVIEW         <review_due_at>#<refund id> the reviewer queue
           QUEUE#TICKET#OPEN / #ANSWERED       <due_at>#<ticket id>       the support queue / waiting for the owner
           QUEUE#PAYMENT_RECON#OPEN            <received_at>#<event id>   provider events for unknown orders
           QUEUE#LISTING#PENDING_REVIEW        <review_due_at>#<listing id> the listing reviewer queue
    GSI4   DAY#<YYYY-MM-DD of created_at>      <created_at>#<order id>    orders created on a UTC day (keys only)
    GSI5   MERCHANT#<merchant>#<status>        <created_at>#<order id>    a merchant's orders in one status

Rules that keep queries exact:
- Timeline sort keys sit right after the order's ("#ORDER" < "#TL#") and every other kind under an order uses a
  prefix without "#", so one Query with SK BETWEEN "#ORDER" AND "#TL$" reads an order and its whole timeline only.
- Index attributes are set only on items that belong in the index (sparse), and removed when an item stops
  waiting, so a queue holds exactly the work to do, oldest due first.
- USER#<uid> as a table PK (settings, entitlements) never meets the GSI1PK values "USER#<uid>" of orders: they
  are different attributes.
- GSI4 (KEYS_ONLY) gives the report the orders created in a window with one Query per day and shard, never a
  scan. Orders written before GSI4 existed carry no GSI4 keys: backfill them by rewriting each order item.
- Write sharding: the order and ticket queues and the day key get a suffix ``#<nnn>`` (a stable hash of the
  item id; counts and load model at QUEUE_SHARDS / DAY_SHARDS below), so no partition takes every new order.
  Readers query every shard plus the old unsharded key in parallel and merge by sort key (dal/queues.py);
  the backfill is in docs/capacity.md.
- Refund and ticket ids embed their order id (``rf_<order hex>_...``, ``tkt-<order id>-...``), so
  GET /refunds/{id} and /tickets/{id} are one GetItem with no lookup item to keep consistent.
"""

from __future__ import annotations

import hashlib

ORDER_SK = "#ORDER"
TIMELINE_PREFIX = "#TL#"
TIMELINE_END = "#TL$"  # '$' sorts right after '#': the upper bound of every timeline key

USER_INDEX = "GSI1"
USER_STATUS_INDEX = "GSI2"
QUEUE_INDEX = "GSI3"
CREATED_DAY_INDEX = "GSI4"
MERCHANT_INDEX = "GSI5"


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


def created_day_pk(day: str) -> str:
    """``day`` is YYYY-MM-DD (the first 10 characters of an ISO-8601 UTC time)."""
    return f"DAY#{day}"


PREFERENCES_SK = "PREFERENCES"
DEVICE_PREFIX = "DEVICE#"
EMAIL_SUPPRESSED_PREFIX = "EMAIL_SUPPRESSED#"
NOTIFY_PREFIX = "NOTIFY#"
EVENT_PREFIX = "EVENT#"


def device_sk(device_id: str) -> str:
    return f"{DEVICE_PREFIX}{device_id}"


def email_suppressed_sk(address: str) -> str:
    """One item per address SES reported as bouncing or complaining (compared case-insensitively)."""
    return f"{EMAIL_SUPPRESSED_PREFIX}{address.strip().lower()}"


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


REFUND_PREFIX = "REFUND#"
# USER#<uid> / AUTO_APPROVALS: the user's automatically approved refund amounts (per-user limit).
AUTO_APPROVALS_SK = "AUTO_APPROVALS"
REFUND_REVIEW_QUEUE = "QUEUE#REFUND#PENDING_REVIEW"  # == queue_pk("REFUND", "PENDING_REVIEW")


def refund_sk(refund_id: str) -> str:
    return f"{REFUND_PREFIX}{refund_id}"


def user_refunds_pk(user_id: str) -> str:
    """GSI2 partition of a user's refunds; never equal to an order's ``USER#<uid>#<status>``."""
    return f"REFUNDS#USER#{user_id}"


# --- write sharding of low-cardinality index partitions ---------------------------------------
# DynamoDB serves at most 1,000 WCU/s and 3,000 RCU/s per partition key (a throttled GSI throttles the
# table's writes). Load model at the 10,000 orders/s target, aiming at <= 50% of the limit (500 WCU/s):
# - GSI3 ORDER#PENDING_PAYMENT: every order enters (put) and leaves (delete) the queue: 2 index writes
#   per order, 1-2 KB each (projection ALL, an order item is > 1 KB) -> up to 40,000 WCU/s / 500 = 80
#   shards; 128 (a power of two, headroom for the order item growing).
# - GSI3 ORDER#DELIVERED: only physical orders (~30% of the mix) enter and leave it: 128 as well, it is
#   the same writer and reader code.
# - GSI3 TICKET#*: a few % of orders: 16 shards.
# - GSI4 DAY#<date>: KEYS_ONLY (1 WCU per order, written once) -> 10,000 / 500 = 20; 32.
# Readers query every shard of a partition in parallel and merge by sort key, so "due first" and report
# windows stay exact. Not sharded: QUEUE#REFUND#PENDING_REVIEW (written by the state machine's
# aws-sdk:updateItem, see statemachines/refund.asl.json) and QUEUE#PAYMENT_RECON#OPEN (only events naming
# no known order): both far below 500 writes/s at the target; see docs/capacity.md.
QUEUE_SHARDS: dict[str, int] = {"ORDER": 128, "TICKET": 16}
DAY_SHARDS = 32


def shard_of(item_id: str, shards: int) -> int:
    """A stable shard number for ``item_id`` (blake2b, the same in every process; never ``hash()``)."""
    digest = hashlib.blake2b(item_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shards


def sharded(partition: str, item_id: str, shards: int) -> str:
    return f"{partition}#{shard_of(item_id, shards):03d}"


def shard_partitions(partition: str, shards: int, *, legacy: bool = True) -> list[str]:
    """Every partition a reader of ``partition`` must query: its shards, and (``legacy``) the unsharded
    key items written before sharding may still carry (see the backfill in docs/capacity.md)."""
    return [f"{partition}#{n:03d}" for n in range(shards)] + ([partition] if legacy else [])


def queue_shards(kind: str) -> int:
    return QUEUE_SHARDS.get(kind, 1)


def sharded_queue_pk(kind: str, status: str, item_id: str) -> str:
    shards = queue_shards(kind)
    return sharded(queue_pk(kind, status), item_id, shards) if shards > 1 else queue_pk(kind, status)


def queue_partitions(kind: str, status: str) -> list[str]:
    shards = queue_shards(kind)
    return shard_partitions(queue_pk(kind, status), shards) if shards > 1 else [queue_pk(kind, status)]


def sharded_created_day_pk(day: str, order_id: str) -> str:
    return sharded(created_day_pk(day), order_id, DAY_SHARDS)


def created_day_partitions(day: str) -> list[str]:
    return shard_partitions(created_day_pk(day), DAY_SHARDS)


# --- merchants and listings (docs/merchants.md) -------------------------------------------------
# GSI5 holds the orders of merchants other than the platform's own (orders without a merchant, or
# with "platform", are ops' work and stay out of it: sparse). One partition per merchant and status:
# "status=S" is one Query; every status is one Query per status, merged by sort key (dal/merchants.py).
MERCHANT_PROFILE_SK = "PROFILE"
LISTING_PREFIX = "LISTING#"
LISTING_SKU_LOCK_SK = "OPEN"
LISTING_REVIEW_QUEUE = "QUEUE#LISTING#PENDING_REVIEW"  # == queue_pk("LISTING", "PENDING_REVIEW")


def merchant_pk(merchant_id: str) -> str:
    return f"MERCHANT#{merchant_id}"


def merchant_status_pk(merchant_id: str, status: str) -> str:
    return f"MERCHANT#{merchant_id}#{status}"


def listing_sk(listing_id: str) -> str:
    return f"{LISTING_PREFIX}{listing_id}"


def listing_sku_lock_pk(sku: str) -> str:
    return f"LISTING_SKU#{sku}"
