"""The orders data layer on moto: conditional writes, atomic timeline, and query cost at scale."""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from orders.dal.orders import OrdersRepository, order_record
from orders.errors import ConcurrentModification, InvalidTransition
from orders.lifecycle import Action
from orders.logic import transitions
from orders.models.catalog import ProductKind
from orders.models.order import Order, OrderLine, OrderStatus, TimelineEvent


def make_order(order_id: str, user: str, created: datetime, status: OrderStatus = OrderStatus.PENDING_PAYMENT) -> Order:
    line = OrderLine(
        sku="coins-500", name="Coins", kind=ProductKind.VIRTUAL, unit_price=499, quantity=1, line_total=499
    )
    return Order(
        order_id=order_id,
        user_id=user,
        status=status,
        items=[line],
        currency="USD",
        subtotal=499,
        shipping_fee=0,
        total=499,
        created_at=created,
        updated_at=created,
    )


@pytest.fixture
def repo(ddb: Any) -> OrdersRepository:
    return OrdersRepository("OrdersTable", client=ddb)


def created(repo: OrdersRepository, order_id: str = "o1") -> Order:
    order = make_order(order_id, "u1", datetime.now(UTC))
    repo.create(
        order, TimelineEvent(at=order.created_at, type="CREATED", to_status=order.status, actor="test", version=1)
    )
    return order


def test_a_stale_write_is_refused_and_writes_nothing(repo: OrdersRepository) -> None:
    # Given two writers that read the same version
    order = created(repo)
    paid, paid_event = transitions.plan(order, Action.PAYMENT_SUCCEEDED, actor="webhook")
    cancelled, cancel_event = transitions.plan(order, Action.CANCEL, actor="user")
    # When both write, the first wins
    repo.save_change(order, paid, paid_event)
    with pytest.raises(ConcurrentModification):
        repo.save_change(order, cancelled, cancel_event)
    # Then the order is PAID and the timeline holds exactly the winning change
    stored, timeline = repo.get_with_timeline("o1")
    assert stored is not None and stored.status is OrderStatus.PAID and stored.version == 2
    assert [(e.type, e.version) for e in timeline] == [("CREATED", 1), ("PAYMENT_SUCCEEDED", 2)]


def test_change_rereads_after_a_race_and_refuses_what_became_illegal(repo: OrdersRepository) -> None:
    # Given an order that got paid after the user's app loaded it
    order = created(repo)
    paid, event = transitions.plan(order, Action.PAYMENT_SUCCEEDED, actor="webhook")
    repo.save_change(order, paid, event)
    # When the user cancels / Then the decision is made on the stored status: 409
    with pytest.raises(InvalidTransition):
        transitions.change(repo, "o1", Action.CANCEL, actor="user", owner="u1")


def test_concurrent_cancels_and_payments_leave_exactly_one_winner(repo: OrdersRepository) -> None:
    # Given one pending order and 8 threads, half paying and half cancelling at once
    created(repo)
    barrier = threading.Barrier(8)
    outcomes: list[str] = []
    lock = threading.Lock()

    def act(action: Action) -> None:
        barrier.wait()
        try:
            transitions.change(repo, "o1", action, actor=action.value)
            result = action.value
        except (InvalidTransition, ConcurrentModification) as exc:
            result = type(exc).__name__
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=act, args=(a,)) for a in [Action.PAYMENT_SUCCEEDED, Action.CANCEL] * 4]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then exactly one change happened and the timeline agrees with the stored status
    winners = [o for o in outcomes if o in (Action.PAYMENT_SUCCEEDED.value, Action.CANCEL.value)]
    assert len(winners) == 1
    stored, timeline = repo.get_with_timeline("o1")
    assert stored is not None and stored.version == 2
    assert [e.type for e in timeline] == ["CREATED", winners[0]]


def test_save_change_refuses_a_version_that_does_not_step_by_one(repo: OrdersRepository) -> None:
    order = created(repo)
    after, event = transitions.plan(order, Action.CANCEL, actor="user")
    with pytest.raises(ValueError, match="exactly one"):
        repo.save_change(order, after.model_copy(update={"version": 5}), event)


# --- scale -------------------------------------------------------------------------------------
USERS = [f"user-{n}" for n in range(6)]
STATUSES = [OrderStatus.PENDING_PAYMENT, OrderStatus.PAID, OrderStatus.COMPLETED, OrderStatus.CANCELLED]
START = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def big_table(ddb: Any) -> list[Order]:
    """3,000 orders across 6 users and 4 statuses over 300 days, bulk-loaded."""
    rng = random.Random(7)
    orders = [
        make_order(
            f"o{n:05d}",
            rng.choice(USERS),
            START + timedelta(minutes=rng.randrange(300 * 24 * 60)),
            rng.choice(STATUSES),
        )
        for n in range(3000)
    ]
    for start in range(0, len(orders), 25):
        ddb.batch_write_item(
            RequestItems={
                "OrdersTable": [{"PutRequest": {"Item": order_record(order)}} for order in orders[start : start + 25]]
            }
        )
    return orders


@pytest.mark.parametrize("status", [None, OrderStatus.PAID])
def test_a_filtered_page_reads_at_most_page_size_plus_one(
    repo: OrdersRepository, big_table: list[Order], status: OrderStatus | None
) -> None:
    # Given thousands of orders / When user-3 pages through a 60-day window, 10 at a time
    lo, hi = START + timedelta(days=100), START + timedelta(days=160)
    expected = sorted(
        (
            o
            for o in big_table
            if o.user_id == "user-3" and lo <= o.created_at <= hi and (status is None or o.status is status)
        ),
        key=lambda o: (o.created_at, o.order_id),
        reverse=True,
    )
    assert len(expected) > 20  # the window spans several pages
    seen: list[str] = []
    after: str | None = None
    while True:
        page = repo.list_for_user("user-3", status=status, start=lo, end=hi, limit=10, after=after)
        # Then every page reads at most 11 items, whatever the table holds
        assert page.items_read <= 11
        seen += [o.order_id for o in page.items]
        after = page.next_cursor
        if after is None:
            break
    # And the pages hold exactly the matching orders, newest first
    assert seen == [o.order_id for o in expected]


def test_page_cost_does_not_grow_with_the_table(repo: OrdersRepository, big_table: list[Order], ddb: Any) -> None:
    # Given the cost of a page now
    lo, hi = START + timedelta(days=100), START + timedelta(days=160)
    small = repo.list_for_user("user-3", status=None, start=lo, end=hi, limit=10, after=None).items_read
    # When 3,000 more orders of other users land in the same window
    more = [make_order(f"x{n:05d}", f"other-{n % 9}", lo + timedelta(minutes=n), OrderStatus.PAID) for n in range(3000)]
    for start in range(0, len(more), 25):
        ddb.batch_write_item(
            RequestItems={
                "OrdersTable": [{"PutRequest": {"Item": order_record(order)}} for order in more[start : start + 25]]
            }
        )
    # Then the same page costs the same
    assert repo.list_for_user("user-3", status=None, start=lo, end=hi, limit=10, after=None).items_read == small == 11
