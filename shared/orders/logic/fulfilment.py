"""After payment: grant what was bought, hand physical goods to the warehouse, revoke on refund.

Rules
- A PAID order with no physical lines: every line is granted and the order moves to COMPLETED (GRANT).
- A PAID order with physical lines: its virtual / subscription lines (if any) are granted now and the
  order moves to PENDING_SHIPMENT (START_FULFILMENT); the warehouse learns of it from the stream.
- Grants are written in the same transaction as the status change, each on condition that its
  (order, sku) record is new: a redelivered stream record finds the order moved on and does nothing.
- Subscriptions: a grant covers ``quantity * subscription_days`` and starts when the user's current
  period of that sku ends (or now), so renewals stack.
- Refunds take the goods back (:func:`on_refund`, docs/refunds.md "What a refund takes back"): whenever an
  order's ``refunded_total`` is above zero, each grant of the order keeps only the units the money not
  refunded still pays for: of ``q`` units, ``floor(q * refunded_total / total)`` are revoked, all of them
  once the order is refunded in full. A subscription loses its revoked periods from the end of its grant
  (all of them: access ends now). A physical order refunded in full before it shipped gives its stock back.
  The rule is applied to the order as it is now, so any number of refunds, from any source, delivered in
  any order and any number of times, converges on the same result.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from orders import errors, lifecycle
from orders.dal.entitlements import latest_expiry
from orders.dal.repos import catalog_repository, entitlements_repository, orders_repository
from orders.logic import transitions
from orders.models.aftersales import Entitlement
from orders.models.api import EntitlementOut
from orders.models.catalog import ProductKind
from orders.models.common import utcnow
from orders.models.order import Order, OrderStatus
from orders.observability import logger, metrics

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

ACTOR = "system:fulfilment"


def plan_grants(order: Order, now: datetime) -> list[Entitlement]:
    """The entitlements the order's virtual and subscription lines give its owner."""
    lines = [line for line in order.items if line.kind is not ProductKind.PHYSICAL]
    if not lines:
        return []
    subscriptions = [line.sku for line in lines if line.kind is ProductKind.SUBSCRIPTION]
    # What the user holds and the products' periods matter only to subscriptions (renewals stack).
    held = entitlements_repository().list_for_user(order.user_id) if subscriptions else []
    products = catalog_repository().get_many(subscriptions) if subscriptions else {}
    grants = []
    for line in lines:
        starts = expires = None
        if line.kind is ProductKind.SUBSCRIPTION:
            days = products[line.sku].subscription_days if line.sku in products else 30
            starts = max(now, latest_expiry(held, line.sku, now) or now)
            expires = starts + timedelta(days=days * line.quantity)
        grants.append(
            Entitlement(
                user_id=order.user_id,
                order_id=order.order_id,
                sku=line.sku,
                name=line.name,
                kind=line.kind,
                quantity=line.quantity,
                granted_at=now,
                starts_at=starts,
                expires_at=expires,
            )
        )
    return grants


def on_paid(order_id: str) -> Order | None:
    """Move a PAID order on (grant and/or start fulfilment). None when there is nothing to do.

    Idempotent: an order that is no longer PAID (a redelivery, a refund that came first) is left alone.
    """
    repo = orders_repository()
    order = repo.get(order_id)
    if order is None or order.status is not OrderStatus.PAID:
        logger.info("nothing to fulfil", order_id=order_id, status=order.status.value if order else None)
        return None
    action = lifecycle.Action.START_FULFILMENT if order.has_physical_goods else lifecycle.Action.GRANT
    now = utcnow()
    granted: list[Entitlement] = []

    def grant_items(before: Order, after: Order) -> list[TransactWriteItemTypeDef]:
        granted[:] = plan_grants(before, now)
        return [entitlements_repository().grant_item(e) for e in granted]

    try:
        after = transitions.change(
            repo,
            order_id,
            action,
            actor=ACTOR,
            details={
                "granted": [
                    {"sku": line.sku, "quantity": line.quantity}
                    for line in order.items
                    if line.kind is not ProductKind.PHYSICAL
                ]
            },
            extra=grant_items,
            current=order,
        )
    except errors.InvalidTransition:
        logger.info("order already moved on", order_id=order_id)
        return None
    if granted:
        metrics.add_metric(name="EntitlementsGranted", unit="Count", value=len(granted))
    logger.info("order fulfilled", order_id=order_id, action=action.value, granted=len(granted))
    if after.refunded_total > 0:  # refunded in part before the grant: the rule applies to it at once
        _revoke_to_rule(after)
    return after


def units_revoked(quantity: int, refunded_total: int, total: int) -> int:
    """Of ``quantity`` units granted by an order of ``total``, how many ``refunded_total`` takes back."""
    if refunded_total <= 0:
        return 0
    if total <= 0 or refunded_total >= total:
        return quantity
    return quantity * refunded_total // total


def on_refund(order_id: str) -> Order | None:
    """Apply the refund rule to the order as stored now: revoke grants, return unshipped stock.

    Idempotent: it revokes up to the rule's target only (conditional writes), and returns stock once
    (``stock_returned`` is set in the same transaction as the release).
    """
    order = orders_repository().get(order_id)
    if order is None or order.refunded_total <= 0:
        return order
    _revoke_to_rule(order)
    if order.status is OrderStatus.REFUNDED and order.shipment is None and order.reserved and not order.stock_returned:
        return _return_stock(order)
    return order


def _revoke_to_rule(order: Order) -> None:
    repo = entitlements_repository()
    now = utcnow()
    periods: dict[str, int] = {}
    for grant in repo.list_for_order(order.user_id, order.order_id):
        target = units_revoked(grant.quantity, order.refunded_total, order.total)
        current: Entitlement | None = grant
        for _ in range(3):  # re-read on a concurrent revocation
            if current is None or current.revoked_quantity >= target:
                break
            expires = current.expires_at
            if current.kind is ProductKind.SUBSCRIPTION:
                if target >= current.quantity:
                    expires = now
                elif current.starts_at is not None:
                    if current.sku not in periods:
                        product = catalog_repository().get_many([current.sku]).get(current.sku)
                        periods[current.sku] = product.subscription_days if product else 30
                    kept = current.starts_at + timedelta(days=periods[current.sku] * (current.quantity - target))
                    expires = kept if expires is None else min(expires, kept)
            after = current.model_copy(update={"revoked_quantity": target, "revoked_at": now, "expires_at": expires})
            if repo.revoke(current, after):
                taken = target - current.revoked_quantity
                logger.info("entitlement revoked", order_id=order.order_id, sku=current.sku, units=taken)
                metrics.add_metric(name="EntitlementsRevoked", unit="Count", value=taken)
                break
            current = repo.get(order.user_id, order.order_id, current.sku)


def _return_stock(order: Order) -> Order | None:
    from orders.logic import inventory

    repo = orders_repository()
    current: Order | None = order
    for _ in range(3):
        if current is None or current.stock_returned:
            return current
        after, event = transitions.plan_update(
            current,
            event_type="STOCK_RETURNED",
            actor=ACTOR,
            details={"returned": dict(current.reserved), "reason": "refunded in full before it shipped"},
            stock_returned=True,
        )
        try:
            repo.save_change(current, after, event, inventory.release_items(current, after))
        except errors.ConcurrentModification:
            current = repo.get(order.order_id)
            continue
        logger.info("stock returned", order_id=order.order_id, skus=len(current.reserved))
        return after
    raise errors.ConcurrentModification()


def my_entitlements(user_id: str, now: datetime | None = None) -> list[EntitlementOut]:
    """What the user holds, one entry per sku (grants of several orders summed; latest expiry)."""
    now = now or utcnow()
    by_sku: dict[str, list[Entitlement]] = {}
    for entitlement in entitlements_repository().list_for_user(user_id):
        by_sku.setdefault(entitlement.sku, []).append(entitlement)
    out = []
    for sku, grants in sorted(by_sku.items()):
        live = [g for g in grants if g.active_at(now)]
        expiries = [g.expires_at for g in live if g.expires_at is not None]
        out.append(
            EntitlementOut(
                sku=sku,
                name=grants[0].name,
                kind=grants[0].kind,
                quantity=sum(g.remaining for g in live),
                expires_at=max(expiries) if expiries else None,
                active=bool(live),
                orders=sorted({g.order_id for g in grants}),
            )
        )
    return out


def revoke_entitlements(
    order_id: str, lines: Mapping[str, int] | None = None, *, actor: str = "system:refund"
) -> list[Entitlement]:
    """Take back what an order granted: ``lines`` maps sku → units to revoke (None: everything).

    For the refund workflow. Idempotent per call target: units already revoked are not revoked twice,
    and asking for more than remains revokes what remains. A subscription loses access at once
    (its period ends now). Returns the records as they are after the call.
    """
    order = orders_repository().get(order_id)
    if order is None:
        raise errors.OrderNotFound(order_id=order_id)
    repo = entitlements_repository()
    now = utcnow()
    wanted = dict(lines) if lines is not None else {line.sku: line.quantity for line in order.items}
    result = []
    for sku, units in sorted(wanted.items()):
        for _ in range(3):  # re-read on a concurrent revocation
            current = repo.get(order.user_id, order_id, sku)
            if current is None or current.remaining == 0 or units <= 0:
                break
            take = min(units, current.remaining)
            revoked = current.revoked_quantity + take
            after = current.model_copy(
                update={
                    "revoked_quantity": revoked,
                    "revoked_at": now,
                    "expires_at": now
                    if current.kind is ProductKind.SUBSCRIPTION and revoked == current.quantity
                    else current.expires_at,
                }
            )
            if repo.revoke(current, after):
                logger.info("entitlement revoked", order_id=order_id, sku=sku, units=take, actor=actor)
                metrics.add_metric(name="EntitlementsRevoked", unit="Count", value=take)
                current = after
                break
        if current is not None:
            result.append(current)
    return result
