"""Applying a lifecycle action to a stored order: read, decide, write conditionally, retry on races."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from orders import lifecycle
from orders.dal.orders import OrdersRepository
from orders.errors import ConcurrentModification, OrderNotFound
from orders.logic.stages import record_order_stage
from orders.models.common import utcnow
from orders.models.order import Order, TimelineEvent

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

    ExtraItems = Callable[[Order, Order], list[TransactWriteItemTypeDef]]

_ATTEMPTS = 3


def plan(
    order: Order, action: lifecycle.Action, *, actor: str, details: dict[str, Any] | None = None, **updates: Any
) -> tuple[Order, TimelineEvent]:
    """The order after ``action`` and its timeline event; raises InvalidTransition if illegal."""
    target = lifecycle.apply(order.status, action)
    now = utcnow()
    after = order.model_copy(update={"status": target, "version": order.version + 1, "updated_at": now, **updates})
    event = TimelineEvent(
        at=now,
        type=action.value,
        from_status=order.status,
        to_status=target,
        actor=actor,
        version=after.version,
        details=details or {},
    )
    return after, event


def plan_update(
    order: Order, *, event_type: str, actor: str, details: dict[str, Any] | None = None, **updates: Any
) -> tuple[Order, TimelineEvent]:
    """A versioned change that keeps the status (e.g. a partial refund), and its timeline event.

    Written like a transition (``save_change``: conditional on status and version), so it
    serialises with every other change of the order. Its timeline event has no from/to status.
    """
    if "status" in updates or "version" in updates:
        raise ValueError("plan_update keeps status and version; a status change goes through plan()")
    now = utcnow()
    after = order.model_copy(update={"version": order.version + 1, "updated_at": now, **updates})
    event = TimelineEvent(at=now, type=event_type, actor=actor, version=after.version, details=details or {})
    return after, event


def change(
    repo: OrdersRepository,
    order_id: str,
    action: lifecycle.Action,
    *,
    actor: str,
    owner: str | None = None,
    details: dict[str, Any] | None = None,
    updates: Mapping[str, Any] | None = None,
    extra: ExtraItems | None = None,
    current: Order | None = None,
    merchant: str | None = None,
) -> Order:
    """Apply ``action`` to the order as stored now.

    A concurrent writer makes the conditional write fail; the order is then read again and the
    action re-decided against its new status, so a race ends in either a legal change or a 409.
    ``owner`` restricts the change to that user's order (anyone else's reads as not found), and
    ``merchant`` to that merchant's order (another merchant's reads as not found).
    ``updates`` are other fields the change sets; ``extra(before, after)`` gives more items for the
    same transaction (stock releases, entitlement grants): they land exactly when the change does.
    ``current``: the order as the caller just read it (saves the first read; a race reads it again).
    """
    for attempt in range(_ATTEMPTS):
        order = current if attempt == 0 and current is not None else repo.get(order_id)
        if (
            order is None
            or (owner is not None and order.user_id != owner)
            or (merchant is not None and order.merchant_id != merchant)
        ):
            raise OrderNotFound(order_id=order_id)
        after, event = plan(order, action, actor=actor, details=details, **dict(updates or {}))
        try:
            repo.save_change(order, after, event, extra(order, after) if extra else None)
        except ConcurrentModification:
            if attempt == _ATTEMPTS - 1:
                raise
            continue
        record_order_stage(after, event.at)
        return after
    raise AssertionError("unreachable")
