"""The order lifecycle: one explicit transition table and the one function that applies it.

Every status change in the system goes through :func:`apply`; the data layer then writes the
result conditionally on the status and version it was computed from.
"""

from __future__ import annotations

from enum import StrEnum
from types import MappingProxyType

from orders.errors import InvalidTransition
from orders.models.order import OrderStatus as S


class Action(StrEnum):
    PAYMENT_SUCCEEDED = "PAYMENT_SUCCEEDED"
    PAYMENT_FAILED = "PAYMENT_FAILED"
    CANCEL = "CANCEL"
    EXPIRE = "EXPIRE"
    START_FULFILMENT = "START_FULFILMENT"  # paid physical order → waiting for the warehouse
    GRANT = "GRANT"  # paid virtual / subscription order → entitlement granted
    SHIP = "SHIP"
    DELIVER = "DELIVER"
    CONFIRM_RECEIPT = "CONFIRM_RECEIPT"
    AUTO_COMPLETE = "AUTO_COMPLETE"
    REFUND_FULL = "REFUND_FULL"


# (action) → {from status: to status}. Anything not listed is illegal.
_REFUNDABLE = (S.PAID, S.PENDING_SHIPMENT, S.SHIPPED, S.DELIVERED, S.COMPLETED)

TRANSITIONS: MappingProxyType[Action, MappingProxyType[S, S]] = MappingProxyType(
    {
        action: MappingProxyType(edges)
        for action, edges in {
            Action.PAYMENT_SUCCEEDED: {S.PENDING_PAYMENT: S.PAID, S.PAYMENT_FAILED: S.PAID},
            Action.PAYMENT_FAILED: {S.PENDING_PAYMENT: S.PAYMENT_FAILED},
            Action.CANCEL: {S.PENDING_PAYMENT: S.CANCELLED, S.PAYMENT_FAILED: S.CANCELLED},
            Action.EXPIRE: {S.PENDING_PAYMENT: S.CANCELLED, S.PAYMENT_FAILED: S.CANCELLED},
            Action.START_FULFILMENT: {S.PAID: S.PENDING_SHIPMENT},
            Action.GRANT: {S.PAID: S.COMPLETED},
            Action.SHIP: {S.PENDING_SHIPMENT: S.SHIPPED},
            Action.DELIVER: {S.SHIPPED: S.DELIVERED},
            Action.CONFIRM_RECEIPT: {S.DELIVERED: S.COMPLETED},
            Action.AUTO_COMPLETE: {S.DELIVERED: S.COMPLETED},
            Action.REFUND_FULL: dict.fromkeys(_REFUNDABLE, S.REFUNDED),
        }.items()
    }
)

TERMINAL: frozenset[S] = frozenset({S.CANCELLED, S.REFUNDED})


def apply(current: S, action: Action) -> S:
    """The status ``action`` leads to from ``current``; raises InvalidTransition if illegal."""
    target = TRANSITIONS[action].get(current)
    if target is None:
        raise InvalidTransition(
            f"Cannot {action.value.lower().replace('_', ' ')} an order that is {current.value}.",
            status=current.value,
            action=action.value,
        )
    return target


def allowed_actions(current: S) -> list[Action]:
    return [action for action, edges in TRANSITIONS.items() if current in edges]
