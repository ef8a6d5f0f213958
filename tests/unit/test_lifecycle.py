"""The order lifecycle table: every status is covered, illegal transitions are refused."""

from __future__ import annotations

import pytest

from orders import lifecycle
from orders.errors import InvalidTransition
from orders.lifecycle import Action
from orders.models.order import OrderStatus as S

LEGAL = [
    (S.PENDING_PAYMENT, Action.PAYMENT_SUCCEEDED, S.PAID),
    (S.PAYMENT_FAILED, Action.PAYMENT_SUCCEEDED, S.PAID),
    (S.PENDING_PAYMENT, Action.PAYMENT_FAILED, S.PAYMENT_FAILED),
    (S.PENDING_PAYMENT, Action.CANCEL, S.CANCELLED),
    (S.PAYMENT_FAILED, Action.CANCEL, S.CANCELLED),
    (S.PENDING_PAYMENT, Action.EXPIRE, S.CANCELLED),
    (S.PAID, Action.START_FULFILMENT, S.PENDING_SHIPMENT),
    (S.PAID, Action.GRANT, S.COMPLETED),
    (S.PENDING_SHIPMENT, Action.SHIP, S.SHIPPED),
    (S.SHIPPED, Action.DELIVER, S.DELIVERED),
    (S.DELIVERED, Action.CONFIRM_RECEIPT, S.COMPLETED),
    (S.DELIVERED, Action.AUTO_COMPLETE, S.COMPLETED),
    (S.PAID, Action.REFUND_FULL, S.REFUNDED),
    (S.COMPLETED, Action.REFUND_FULL, S.REFUNDED),
]


@pytest.mark.parametrize(("current", "action", "expected"), LEGAL)
def test_legal_transition_leads_to_its_target(current: S, action: Action, expected: S) -> None:
    # Given an order in `current` / When `action` is applied / Then it moves to `expected`
    assert lifecycle.apply(current, action) is expected


ILLEGAL = [
    (S.PAID, Action.CANCEL),
    (S.SHIPPED, Action.CANCEL),
    (S.CANCELLED, Action.CANCEL),
    (S.CANCELLED, Action.PAYMENT_SUCCEEDED),
    (S.PAID, Action.PAYMENT_FAILED),  # a late failure never moves a paid order back
    (S.PAID, Action.PAYMENT_SUCCEEDED),
    (S.PENDING_PAYMENT, Action.SHIP),
    (S.PENDING_SHIPMENT, Action.DELIVER),
    (S.DELIVERED, Action.SHIP),
    (S.COMPLETED, Action.CONFIRM_RECEIPT),
    (S.REFUNDED, Action.REFUND_FULL),
    (S.PENDING_PAYMENT, Action.REFUND_FULL),
    (S.REFUNDED, Action.PAYMENT_SUCCEEDED),
]


@pytest.mark.parametrize(("current", "action"), ILLEGAL)
def test_illegal_transition_is_refused_with_a_stable_code(current: S, action: Action) -> None:
    # Given an order in `current` / When an action it does not allow is applied
    with pytest.raises(InvalidTransition) as refused:
        lifecycle.apply(current, action)
    # Then the refusal names the status and action, with code INVALID_TRANSITION
    assert refused.value.code == "INVALID_TRANSITION"
    assert refused.value.details == {"status": current.value, "action": action.value}


def test_every_status_appears_in_the_table() -> None:
    # Given the transition table / Then every status is reachable or left by some action
    mentioned = {s for edges in lifecycle.TRANSITIONS.values() for pair in edges.items() for s in pair}
    assert mentioned == set(S)


def test_terminal_statuses_allow_nothing() -> None:
    for status in lifecycle.TERMINAL:
        assert lifecycle.allowed_actions(status) == []


def test_only_payment_leads_into_paid() -> None:
    # The only way into PAID is a confirmed payment.
    into_paid = {action for action, edges in lifecycle.TRANSITIONS.items() if S.PAID in edges.values()}
    assert into_paid == {Action.PAYMENT_SUCCEEDED}


def test_table_cannot_be_mutated_at_run_time() -> None:
    with pytest.raises(TypeError):
        lifecycle.TRANSITIONS[Action.CANCEL][S.PAID] = S.CANCELLED  # type: ignore[index]
