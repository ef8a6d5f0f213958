"""Model-based test of a merchant's orders (GSI5): random histories through the real handlers.

A hypothesis ``RuleBasedStateMachine`` gives two merchants of a history a product each; buyers order one
merchant's product or both at once (a mixed order, which is no merchant's), pay, cancel; fulfilment moves paid
orders on; merchants ship their own orders and try to ship each other's; ops ship and deliver; merchants page
through their orders with any page size and status filter, pass each other's cursors and send malformed
queries.

After every step it checks (``Violations``):

* ``GET /merchant/orders`` paged to the end lists exactly the merchant's orders, each once, newest first, each
  with its current status; with ``?status=S``, exactly those in S;
* another merchant never sees them, never ships them (404, nothing changes), and cannot use their cursor (400);
* a mixed order is on nobody's list;
* malformed queries are a 4xx, and no call answers 5xx.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import (
    initialize,
    invariant,
    precondition,
    rule,
)

from local_stack.runtime import LambdaRuntime
from orders.dal.repos import orders_repository
from orders.lifecycle import Action
from orders.logic import transitions
from tests.conftest import api_event
from tests.integration.conftest import Api, HttpResult
from tests.integration.helpers import ADDRESS, mark_paid, place
from tests.integration.model_support import Budget, ModelMachine, Tally, run_model
from tests.integration.test_merchants import SHIPMENT, as_merchant

BUDGET = Budget.from_env("MERCHANT_MODEL", examples=10, steps=20)
OPS = "ops-merchant-model"
MAX_ORDERS = 6  # per history: enough for pages of 1..4 to split, few enough that steps move them along
STATUSES = ["PENDING_PAYMENT", "PAID", "PENDING_SHIPMENT", "SHIPPED", "DELIVERED", "CANCELLED"]
HOSTILE_QUERIES = [
    ({"limit": "0"}, 422),
    ({"limit": "many"}, 422),
    ({"status": "LOST"}, 422),
    ({"from": "2026-12-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, 422),
    ({"cursor": "not-a-cursor"}, 400),
]


@dataclass
class OrderModel:
    order_id: str
    merchant: str | None  # None: a mixed order (two merchants' lines)
    created_at: str
    status: str = "PENDING_PAYMENT"


@dataclass
class World(Tally):
    api: Api
    runtime: LambdaRuntime


class MerchantOrdersMachine(ModelMachine[World]):
    def __init__(self) -> None:
        super().__init__()
        tag = self.tag
        self.merchants = [f"ma-{tag}", f"mb-{tag}"]
        self.skus = [f"ware-a-{tag}", f"ware-b-{tag}"]
        self.buyer = f"buyer-{tag}"
        self.orders: list[OrderModel] = []

    # --- plumbing ------------------------------------------------------------------------------
    def call(self, event: dict[str, Any], expect: tuple[int, ...], what: str) -> HttpResult:
        result = self.w.api(event)
        self.w.coverage[f"{what} {result.status}"] += 1
        assert result.status < 500, f"[server_error] {what} answered {result.status}: {result.body}"
        assert result.status in expect, f"[unexpected_answer] {what} answered {result.status}: {result.body}"
        return result

    def list_orders(self, merchant: str, query: dict[str, str], expect: tuple[int, ...] = (200,)) -> HttpResult:
        event = as_merchant("merchant_list_orders", merchant, user=f"user-{merchant}", query=query)
        return self.call(event, expect, "list")

    def pages(self, merchant: str, limit: int, status: str | None = None) -> list[dict[str, Any]]:
        seen: list[dict[str, Any]] = []
        query = {"limit": str(limit)} | ({"status": status} if status else {})
        cursor = None
        for _ in range(100):
            page = self.list_orders(merchant, query | ({"cursor": cursor} if cursor else {})).body
            assert len(page["items"]) <= limit, f"[page_size] {len(page['items'])} > {limit}"
            seen += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                return seen
        raise AssertionError("[paging_never_ends]")

    def expected(self, merchant: str, status: str | None = None) -> list[tuple[str, str]]:
        mine = [o for o in self.orders if o.merchant == merchant and (status is None or o.status == status)]
        mine.sort(key=lambda o: (o.created_at, o.order_id), reverse=True)
        return [(o.order_id, o.status) for o in mine]

    def pick(self, index: int) -> OrderModel:
        return self.orders[index % len(self.orders)]

    # --- rules ---------------------------------------------------------------------------------
    def two_shops(self) -> None:
        for merchant, sku in zip(self.merchants, self.skus, strict=True):
            body = {
                "sku": sku,
                "name": "Model Ware",
                "kind": "physical",
                "price": 1000,
                "currency": "USD",
                "merchant_id": merchant,
                "category": "kitchen",
            }
            self.call(api_event("catalog_admin_create_product", user=OPS, groups=("ops",), body=body), (201,), "ops")

    @initialize(first=st.integers(0, 1), paid=st.booleans())
    def two_shops_and_an_order_each(self, first: int, paid: bool) -> None:
        self.two_shops()
        self.buyer_orders(first)
        self.buyer_orders(1 - first)
        if paid:
            self.the_order_moves_on(0, "advance")

    @precondition(lambda self: len(self.orders) < MAX_ORDERS)
    @rule(which=st.sampled_from([0, 0, 1, 1, None]))
    def buyer_orders(self, which: int | None) -> None:
        skus = self.skus if which is None else [self.skus[which]]
        body = {"items": [{"sku": sku, "quantity": 1} for sku in skus], "shipping_address": ADDRESS}
        result = place(self.w.api, body, user=self.buyer)
        assert result.status == 201, f"[unexpected_answer] create_order {result.status}: {result.body}"
        merchant = None if which is None else self.merchants[which]
        self.orders.append(OrderModel(result.body["order_id"], merchant, result.body["created_at"]))

    @precondition(lambda self: self.orders)
    @rule(index=st.integers(0, 99), step=st.sampled_from(["advance", "advance", "advance", "cancel", "ops ship"]))
    def the_order_moves_on(self, index: int, step: str) -> None:
        """Mostly the order's next step (pay, fulfil, ship, deliver); sometimes a cancel or a ship out of turn."""
        order = self.pick(index)
        path = {"order_id": order.order_id}
        if step == "advance":
            step = {
                "PENDING_PAYMENT": "pay",
                "PAID": "fulfil",
                "PENDING_SHIPMENT": "ops ship",
                "SHIPPED": "ops deliver",
            }.get(order.status, "ops deliver")
        self.w.coverage[f"{step} from {order.status}"] += 1
        if step == "pay" and order.status == "PENDING_PAYMENT":
            mark_paid(self.w.runtime, order.order_id)
            order.status = "PAID"
        elif step == "fulfil" and order.status == "PAID":
            transitions.change(orders_repository(), order.order_id, Action.START_FULFILMENT, actor="test:fulfilment")
            order.status = "PENDING_SHIPMENT"
        elif step == "cancel":
            ok = order.status in ("PENDING_PAYMENT",)
            event = api_event("orders_cancel_order", user=self.buyer, path_params=path)
            self.call(event, (200,) if ok else (409,), "cancel")
            order.status = "CANCELLED" if ok else order.status
        elif step == "ops ship":
            ok = order.status == "PENDING_SHIPMENT"
            event = api_event("shipping_ship", user=OPS, groups=("ops",), path_params=path, body=SHIPMENT)
            self.call(event, (200,) if ok else (409,), "ops ship")
            order.status = "SHIPPED" if ok else order.status
        elif step == "ops deliver":
            ok = order.status == "SHIPPED"
            event = api_event("shipping_deliver", user=OPS, groups=("ops",), path_params=path)
            self.call(event, (200,) if ok else (409,), "ops deliver")
            order.status = "DELIVERED" if ok else order.status

    @precondition(lambda self: self.orders)
    @rule(index=st.integers(0, 99), times=st.integers(1, 3))
    def orders_advance(self, index: int, times: int) -> None:
        """The common path, a step or a few at a time (a rule of its own: drawn as often as the others)."""
        for _ in range(times):
            self.the_order_moves_on(index, "advance")

    @precondition(lambda self: self.orders)
    @rule(index=st.integers(0, 99), who=st.integers(0, 1))
    def a_merchant_ships(self, index: int, who: int) -> None:
        # Mostly an order waiting to be shipped (by its merchant or the other one), sometimes any order.
        waiting = [o for o in self.orders if o.status == "PENDING_SHIPMENT"]
        order = waiting[index % len(waiting)] if waiting and index % 3 else self.pick(index)
        merchant = self.merchants[who]
        path = {"order_id": order.order_id}
        event = as_merchant("shipping_ship", merchant, user=f"user-{merchant}", path_params=path, body=SHIPMENT)
        if order.merchant != merchant:
            result = self.call(event, (404,), "foreign ship")
            assert result.body["code"] == "ORDER_NOT_FOUND", result.body
            for name in ("orders_get_order", "orders_get_timeline"):
                read = as_merchant(name, merchant, user=f"user-{merchant}", path_params=path)
                self.call(read, (404,), f"foreign {name}")
            return
        ok = order.status == "PENDING_SHIPMENT"
        self.call(event, (200,) if ok else (409,), "own ship")
        order.status = "SHIPPED" if ok else order.status

    @rule(who=st.integers(0, 1), limit=st.integers(1, 4), status=st.sampled_from([None, *STATUSES]))
    def a_merchant_pages_through(self, who: int, limit: int, status: str | None) -> None:
        merchant = self.merchants[who]
        got = [(o["order_id"], o["status"]) for o in self.pages(merchant, limit, status)]
        assert got == self.expected(merchant, status), f"[pages] {merchant} {status} by {limit}: {got}"

    @rule(who=st.integers(0, 1), status=st.sampled_from([None, "PENDING_PAYMENT"]))
    def a_merchant_uses_another_merchants_cursor(self, who: int, status: str | None) -> None:
        owner, other = self.merchants[who], self.merchants[1 - who]
        query = {"limit": "1"} | ({"status": status} if status else {})
        cursor = self.list_orders(owner, query).body["next_cursor"]
        if cursor is None:
            return
        refused = self.list_orders(other, query | {"cursor": cursor}, (400,))
        assert refused.body["code"] == "INVALID_CURSOR", refused.body
        # nor the same merchant's cursor under another status
        self.list_orders(owner, {"limit": "1", "status": "SHIPPED" if status else "PAID", "cursor": cursor}, (400,))

    @rule(who=st.integers(0, 1), hostile=st.sampled_from(range(len(HOSTILE_QUERIES))))
    def a_merchant_sends_a_malformed_query(self, who: int, hostile: int) -> None:
        query, status = HOSTILE_QUERIES[hostile]
        self.list_orders(self.merchants[who], query, (status,))

    def teardown(self) -> None:
        for order in self.orders:
            self.w.coverage[f"order {order.status} ({'mixed' if order.merchant is None else 'one shop'})"] += 1

    # --- invariants ------------------------------------------------------------------------------
    @invariant()
    def each_merchant_sees_exactly_their_orders(self) -> None:
        self.w.steps += 1
        for merchant in self.merchants:
            got = [(o["order_id"], o["status"]) for o in self.pages(merchant, 3)]
            assert len({oid for oid, _ in got}) == len(got), f"[listed_twice] {merchant}: {got}"
            assert got == self.expected(merchant), f"[merchant_orders] {merchant}: {got} != {self.expected(merchant)}"


def test_random_merchant_histories_keep_each_shop_to_its_own_orders(api: Api, runtime: LambdaRuntime) -> None:
    w = World(api, runtime)
    try:
        run_model(MerchantOrdersMachine, BUDGET, w)
    finally:
        w.report("merchant orders")
