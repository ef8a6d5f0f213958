"""Model-based test of the whole money path: random histories through the real handlers on moto.

A hypothesis ``RuleBasedStateMachine`` places orders (virtual coins, a subscription, a physical
product with counted stock), starts Stripe payments (the local fake Stripe, over HTTP, through the
stripe SDK), confirms or declines them at the provider, delivers the provider's signed webhooks
late, twice or out of order, cancels, runs the expiry job, ships / delivers / confirms, asks for
full and partial refunds, reviews them (approve, reject, deadline), refunds at the provider behind
our back, and redelivers stream records to the fulfilment consumer. The refund workflow is the real
state machine (moto's executor) with the real refund worker; the fulfilment consumer reads the
table's stream through the template's filter.

After every step, once the workflows and the stream have settled, it checks the money invariants
(``Violations``; docs/refunds.md states the rules they follow):

* ``refunded_total`` <= ``total``;
* ``refunded_total`` == the succeeded refunds (requested ones) + the refunds made at the provider;
* REFUNDED exactly when ``refunded_total`` == ``total``;
* an entitlement is active only as the partial-refund rule says (docs/refunds.md);
* stock + reserved + sold == what was stocked;
* no CANCELLED order keeps a charge without an automatic refund;
* every timeline is contiguous (versions 1..n) and its last status change ends at the order's status;
* the refunds of an order approved without review add up to at most the auto-approve limit;
* every API read answers 2xx, and no call answers 5xx.

CI runs it derandomized (a fixed seed). ``make soak`` raises the number of histories
(``MONEY_SOAK_EXAMPLES``) and steps (``MONEY_SOAK_STEPS``) and draws new ones (``MONEY_SOAK_RANDOM``).
``MONEY_SURVEY=<file>`` records the violations by class (histories with at least one) into a JSON file,
after every history, instead of failing: how "violations before the fixes" was measured.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import boto3
import pytest
from hypothesis import strategies as st
from hypothesis.stateful import (
    initialize,
    invariant,
    precondition,
    rule,
)

from local_stack.fake_stripe import LOCAL_WEBHOOK_SECRET, FakeStripe, FakeStripeServer, StripeError, sign
from local_stack.runtime import LambdaRuntime
from local_stack.streams import StreamPoller, stream_event_settings
from tests.conftest import FAKE_AWS_ENV, api_event
from tests.integration.conftest import REFS, TEMPLATE, Api, HttpResult
from tests.integration.model_support import Budget, ModelMachine, run_model
from tests.integration.stepfunctions import Workflows, workflow_refs, workflows

SM = "RefundStateMachine"
REVIEWER = "reviewer-money"
OPS = "ops-money"
ADDRESS = {"name": "Ada", "line1": "1 Row", "city": "London", "postal_code": "N1", "country": "GB"}
PAID_STATES = ("PAID", "PENDING_SHIPMENT", "SHIPPED", "DELIVERED", "COMPLETED")
UNPAID = ("PENDING_PAYMENT", "PAYMENT_FAILED")
STOCKED = 3
AUTO_APPROVE_MAX = int(TEMPLATE["Parameters"]["RefundAutoApproveMaxMinor"]["Default"])

BUDGET = Budget.from_env("MONEY_SOAK", examples=10, steps=25)
SURVEY = os.environ.get("MONEY_SURVEY")
# CI: derandomized (the same histories every run). make soak: new random histories each run (MONEY_SOAK_RANDOM).


# --- the provider side: one small helper per thing the provider does ---------------------------
def provider_refund(fake: FakeStripe, intent_id: str, amount: int) -> bool:
    """A refund made at the provider (e.g. from the Stripe dashboard), not asked for through us.

    Its notification is whatever the fake emits for it (queued for the machine to deliver).
    """
    with fake._lock:
        try:
            fake.create_refund({"payment_intent": intent_id, "amount": str(amount)})
        except StripeError:
            return False
    return True


def confirm_at_provider(fake: FakeStripe, intent_id: str, *, succeed: bool) -> str:
    """The customer confirms the PaymentIntent in the app (Stripe's test cards)."""
    method = "pm_card_visa" if succeed else "pm_card_chargeDeclined"
    with fake._lock:
        try:
            return str(fake.confirm_intent(intent_id, {"payment_method": method})["status"])
        except StripeError as exc:
            return f"refused:{exc.status}"


def net_charged(fake: FakeStripe, intent_id: str) -> int:
    """Money the provider holds for an intent: what was charged minus what was refunded."""
    with fake._lock:
        intent = fake.intents.get(intent_id)
        if not intent or not intent.get("latest_charge"):
            return 0
        charge = fake.charges[intent["latest_charge"]]
        return int(charge["amount"]) - int(charge["amount_refunded"])


# --- the environment shared by every history ---------------------------------------------------
@dataclass
class World:
    api: Api
    runtime: LambdaRuntime
    flows: Workflows
    fake: FakeStripe
    fulfilment: StreamPoller
    ddb: Any
    delivered_batches: list[dict[str, Any]] = field(default_factory=list)
    violations: Counter[str] = field(default_factory=Counter)
    coverage: Counter[str] = field(default_factory=Counter)  # what the histories reached (final states)
    histories: int = 0
    steps: int = 0
    examples: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def summary(self) -> dict[str, Any]:
        return {
            "histories": self.histories,
            "steps": self.steps,
            "seconds": round(time.monotonic() - self.started, 1),
            "violations_by_class": dict(self.violations),
            "reached": dict(sorted(self.coverage.items())),
        }

    def write_summary(self, path: str) -> None:
        with open(path, "w") as handle:
            json.dump(self.summary(), handle, indent=2)


@contextlib.contextmanager
def world(runtime: LambdaRuntime) -> Iterator[World]:
    from orders.dal.workflow import sfn_client

    fake = FakeStripe(webhook_url=None)  # the machine delivers the webhooks itself
    server = FakeStripeServer(fake)
    server.start()
    runtime.set_ref("StripeApiBase", server.url)
    sfn_client.cache_clear()
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    stream_arn = ddb.describe_table(TableName="OrdersTable")["Table"]["LatestStreamArn"]
    props = TEMPLATE["Resources"]["FulfilmentFunction"]["Properties"]["Events"]
    stream_settings = stream_event_settings(next(iter(props.values()))["Properties"])
    holder: dict[str, World] = {}

    def consume(batch: dict[str, Any]) -> Any:
        holder["w"].delivered_batches.append(batch)
        return runtime.invoke("FulfilmentFunction", batch)

    stream_settings.pop("max_record_age_seconds", None)
    poller = StreamPoller(
        boto3.client("dynamodbstreams", region_name="us-east-1"), stream_arn, consume, **stream_settings
    )
    try:
        with workflows(runtime, REFS | workflow_refs()) as flows:
            holder["w"] = World(Api(runtime), runtime, flows, fake, poller, ddb)
            yield holder["w"]
    finally:
        server.stop()
        sfn_client.cache_clear()


@dataclass
class OrderModel:
    order_id: str
    kind: str
    total: int
    intent: str | None = None
    success_delivered: bool = False


class MoneyMachine(ModelMachine[World]):
    tag_length = 10

    def __init__(self) -> None:
        super().__init__()
        tag = self.tag
        self.user = f"prop-{tag}"
        self.sku = f"mug-{tag}"
        self.w.ddb.put_item(
            TableName="CatalogTable",
            Item={
                "sku": {"S": self.sku},
                "name": {"S": "Mug"},
                "description": {"S": "A mug with counted stock."},
                "kind": {"S": "physical"},
                "price": {"N": "1200"},
                "currency": {"S": "USD"},
                "active": {"BOOL": True},
                "stock": {"N": str(STOCKED)},
            },
        )
        self.orders: list[OrderModel] = []
        self.refunds: list[str] = []
        self.event_cursor = len(self.w.fake.events)
        self.pending_events: list[dict[str, Any]] = []
        self.delivered_events: list[dict[str, Any]] = []
        self.batch_cursor = len(self.w.delivered_batches)
        self.found: set[str] = set()
        self.touched: set[str] = set()

    # --- plumbing ------------------------------------------------------------------------------
    def call(self, name: str, expect: tuple[int, ...], **kwargs: Any) -> HttpResult:
        result = self.w.api(api_event(name, **kwargs))
        self.w.coverage[f"{name} {result.status}"] += 1
        if result.status >= 500:
            self.violation("server_error", f"{name} answered {result.status}: {result.body}")
        elif result.status not in expect:
            self.violation("unexpected_answer", f"{name} answered {result.status}: {result.body}")
        return result

    def read(self, name: str, **kwargs: Any) -> Any:
        result = self.w.api(api_event(name, **kwargs))
        if not 200 <= result.status < 300:
            self.violation("api_read_not_2xx", f"{name} answered {result.status}: {result.body}")
            return None
        return result.body

    def violation(self, kind: str, message: str) -> None:
        if SURVEY:
            self.found.add(kind)
            return
        raise AssertionError(f"[{kind}] {message}")

    def owner(self, **kwargs: Any) -> dict[str, Any]:
        return {"user": self.user, **kwargs}

    def pick(self, items: list[Any], index: int) -> Any:
        item = items[index % len(items)]
        if isinstance(item, OrderModel):
            self.touched.add(item.order_id)
        elif isinstance(item, str) and item.startswith("rf_"):
            self.touched.add("ord_" + item.split("_")[1])
        return item

    def settle(self) -> None:
        """Wait for the refund workflows to end or wait for a reviewer; deliver the stream and new provider events."""
        deadline = time.monotonic() + 60
        for refund_id in self.refunds:
            arn = self.w.flows.execution_arn(SM, refund_id)
            while True:
                try:
                    status = self.w.flows.sfn.describe_execution(executionArn=arn)["status"]
                except self.w.flows.sfn.exceptions.ExecutionDoesNotExist:
                    break
                if status != "RUNNING" or self._waiting_for_review(refund_id):
                    break
                if time.monotonic() > deadline:
                    self.violation("workflow_stuck", f"{refund_id} still running")
                    break
                time.sleep(0.02)
        for _ in range(5):
            if self.w.fulfilment.drain() == 0:
                break
        new = self.w.fake.events[self.event_cursor :]
        self.event_cursor += len(new)
        self.pending_events += new

    def _waiting_for_review(self, refund_id: str) -> bool:
        order_id = "ord_" + refund_id.split("_")[1]
        item = self.w.ddb.get_item(
            TableName="OrdersTable",
            Key={"PK": {"S": f"ORDER#{order_id}"}, "SK": {"S": f"REFUND#{refund_id}"}},
            ConsistentRead=True,
        ).get("Item", {})
        return "task_token" in item and item.get("status", {}).get("S") == "PENDING_REVIEW"

    def deliver(self, event: dict[str, Any]) -> None:
        payload = json.dumps(event)
        headers = {"Stripe-Signature": sign(payload, LOCAL_WEBHOOK_SECRET)}
        raw = api_event("payment_webhook_stripe_webhook", raw_body=payload, headers=headers)
        result = self.w.api(raw)
        if not 200 <= result.status < 300:
            self.violation("webhook_not_2xx", f"{event['type']} answered {result.status}: {result.body}")
        obj = event["data"]["object"]
        if isinstance(obj.get("metadata"), dict) and obj["metadata"].get("order_id"):
            self.touched.add(obj["metadata"]["order_id"])
        if event["type"] == "payment_intent.succeeded":
            for order in self.orders:
                if order.intent == obj["id"]:
                    order.success_delivered = True

    # --- rules ---------------------------------------------------------------------------------
    @initialize(
        orders=st.lists(
            st.tuples(
                st.sampled_from(["virtual", "subscription", "physical"]),
                st.integers(1, 2),
                st.sampled_from(["now", "now, heard late", "later"]),
            ),
            min_size=2,
            max_size=3,
        )
    )
    def some_orders(self, orders: list[tuple[str, int, str]]) -> None:
        """Every history starts with a few orders, most of them paid: the money path is what is under test."""
        for kind, quantity, pay in orders:
            self.create_order(kind, quantity, pay)

    @rule(
        kind=st.sampled_from(["virtual", "subscription", "physical"]),
        quantity=st.integers(1, 2),
        pay=st.sampled_from(["later", "now", "now, heard late"]),
    )
    def create_order(self, kind: str, quantity: int, pay: str = "later") -> None:
        sku = {"virtual": "coins-500", "subscription": "premium-monthly", "physical": self.sku}[kind]
        body: dict[str, Any] = {"items": [{"sku": sku, "quantity": quantity}]}
        if kind == "physical":
            body["shipping_address"] = ADDRESS
        event = api_event("create_order", **self.owner(body=body))
        event["headers"].pop("Idempotency-Key", None)
        event["multiValueHeaders"].pop("Idempotency-Key", None)
        result = self.w.api(event)
        if result.status >= 500:
            self.violation("server_error", f"create_order answered {result.status}: {result.body}")
        if result.status == 201:
            self.orders.append(OrderModel(result.body["order_id"], kind, result.body["total"]))
            self.touched.add(result.body["order_id"])
            if pay != "later":  # most histories worth walking start with a paid order
                self.customer_pays(len(self.orders) - 1, pay == "now")

    @precondition(lambda self: self.orders)
    @rule(index=st.integers(0, 99))
    def start_payment(self, index: int) -> None:
        order = self.pick(self.orders, index)
        result = self.call(
            "payments_start_payment",
            (201, 409),
            **self.owner(path_params={"order_id": order.order_id}, body={"provider": "stripe"}),
        )
        if result.status == 201:
            order.intent = result.body["payment_reference"]

    @precondition(lambda self: self.orders)
    @rule(index=st.integers(0, 99), deliver=st.booleans())
    def customer_pays(self, index: int, deliver: bool) -> None:
        """The common path in one step: start paying, pay at the provider, and (maybe) hear of it at once."""
        order = self.pick(self.orders, index)
        self.start_payment(index)
        if order.intent is None:
            return
        status = confirm_at_provider(self.w.fake, order.intent, succeed=True)
        if deliver and status == "succeeded":
            self.settle()
            event = next(
                (
                    e
                    for e in self.pending_events
                    if e["type"] == "payment_intent.succeeded" and e["data"]["object"]["id"] == order.intent
                ),
                None,
            )
            if event is not None:
                self.pending_events.remove(event)
                self.deliver(event)
                self.delivered_events.append(event)

    @precondition(lambda self: any(o.intent for o in self.orders))
    @rule(index=st.integers(0, 99), succeed=st.booleans())
    def customer_confirms_at_provider(self, index: int, succeed: bool) -> None:
        order = self.pick([o for o in self.orders if o.intent], index)
        confirm_at_provider(self.w.fake, order.intent, succeed=succeed)

    # Rules whose material comes from outside the model (provider events, stream batches) have no
    # precondition on it: which rules are enabled must depend only on what hypothesis drew so far.
    @rule(index=st.integers(0, 99))
    def provider_delivers_a_webhook(self, index: int) -> None:
        """Any pending event, not necessarily the oldest: deliveries are reordered and late."""
        if not self.pending_events:
            return
        event = self.pending_events.pop(index % len(self.pending_events))
        self.deliver(event)
        self.delivered_events.append(event)

    @rule(index=st.integers(0, 99))
    def provider_redelivers_a_webhook(self, index: int) -> None:
        if not self.delivered_events:
            return
        self.deliver(self.pick(self.delivered_events, index))

    @precondition(lambda self: self.orders)
    @rule(index=st.integers(0, 99))
    def owner_cancels(self, index: int) -> None:
        order = self.pick(self.orders, index)
        self.call("orders_cancel_order", (200, 409), **self.owner(path_params={"order_id": order.order_id}))

    @rule(due=st.integers(0, 3))
    def expiry_job_runs(self, due: int) -> None:
        """The job runs every few minutes; an order is due only a while after it was placed (1 draw in 4)."""
        if due:
            return
        from orders.adapters.payments import payment_gateway
        from orders.logic import scheduler
        from orders.models.common import utcnow

        self.w.runtime.activate("SchedulerFunction")
        scheduler.expire_unpaid(now=utcnow() + timedelta(days=1), gateway=payment_gateway())

    @precondition(lambda self: any(o.kind == "physical" for o in self.orders))
    @rule(index=st.integers(0, 99), step=st.sampled_from(["ship", "deliver", "confirm"]))
    def fulfil_physical(self, index: int, step: str) -> None:
        order = self.pick([o for o in self.orders if o.kind == "physical"], index)
        path = {"order_id": order.order_id}
        if step == "ship":
            body = {"carrier": "DHL", "tracking_number": "JD01"}
            self.call("shipping_ship", (200, 409), user=OPS, groups=("ops",), path_params=path, body=body)
        elif step == "deliver":
            self.call("shipping_deliver", (200, 409), user=OPS, groups=("ops",), path_params=path)
        else:
            self.call("shipping_confirm_receipt", (200, 409), **self.owner(path_params=path))

    @precondition(lambda self: self.orders)
    @rule(index=st.integers(0, 99), percent=st.one_of(st.none(), st.integers(1, 100)))
    def owner_asks_for_a_refund(self, index: int, percent: int | None) -> None:
        # Mostly of orders that were paid (a refund of an unpaid one is a quick 409 worth trying sometimes).
        paid = [o for o in self.orders if o.success_delivered]
        order = self.pick(paid if paid and index % 5 else self.orders, index)
        body: dict[str, Any] = {"reason": "changed my mind"}
        if percent is not None:
            body["amount"] = max(1, order.total * percent // 100)
        result = self.call(
            "refund_request_request_refund",
            (202, 409, 422),
            **self.owner(path_params={"order_id": order.order_id}, body=body),
        )
        if result.status == 202 and result.body["refund_id"] not in self.refunds:
            self.refunds.append(result.body["refund_id"])

    @precondition(lambda self: self.orders)
    @rule(index=st.integers(0, 99))
    def owner_asks_for_everything_back(self, index: int) -> None:
        self.owner_asks_for_a_refund(index, None)

    @precondition(lambda self: self.refunds)
    @rule(index=st.integers(0, 99))
    def reviewer_approves(self, index: int) -> None:
        self.reviewer_decides(index, "approve")

    @precondition(lambda self: self.refunds)
    @rule(index=st.integers(0, 99), decision=st.sampled_from(["approve", "reject", "deadline"]))
    def reviewer_decides(self, index: int, decision: str) -> None:
        waiting = [r for r in self.refunds if self._waiting_for_review(r)]
        refund_id = self.pick(waiting if waiting and index % 5 else self.refunds, index)
        if decision == "deadline":
            item = self._refund_item(refund_id)
            token = item.get("task_token", {}).get("S")
            if token:
                with contextlib.suppress(Exception):
                    self.w.flows.sfn.send_task_failure(taskToken=token, error="States.Timeout", cause="deadline")
            return
        body = {"decision": decision, "note": decision}
        self.call(
            "refund_review_decide",
            (200, 409),
            user=REVIEWER,
            groups=("reviewer",),
            path_params={"refund_id": refund_id},
            body=body,
        )

    @precondition(lambda self: any(o.intent for o in self.orders))
    @rule(index=st.integers(0, 99), percent=st.integers(1, 100))
    def refund_made_at_the_provider(self, index: int, percent: int) -> None:
        order = self.pick([o for o in self.orders if o.intent], index)
        held = net_charged(self.w.fake, order.intent)
        if held > 0:
            provider_refund(self.w.fake, order.intent, max(1, held * percent // 100))

    @rule(index=st.integers(0, 999))
    def stream_record_redelivered(self, index: int) -> None:
        mine = self.w.delivered_batches[self.batch_cursor :]
        if not mine:
            return
        batch = mine[index % len(mine)]
        response = self.w.runtime.invoke("FulfilmentFunction", batch)
        if response != {"batchItemFailures": []}:
            self.violation("stream_redelivery_failed", str(response))

    # --- invariants ----------------------------------------------------------------------------
    @invariant()
    def books_balance(self) -> None:
        self.settle()
        self.w.steps += 1
        partitions = {model.order_id: self._partition(model.order_id) for model in self.orders}
        for model in self.orders:
            self.check_order(model, partitions[model.order_id])
        self.check_stock(partitions)
        # Every API read answers 2xx: the reads of the orders this step touched (each handler is a
        # Lambda invocation in-process; reading every order after every step would dominate the run).
        for model in self.orders:
            if model.order_id in self.touched:
                self.check_reads(model)
        self.touched.clear()
        self.read("entitlements_my_entitlements", **self.owner())

    def check_reads(self, model: OrderModel) -> None:
        path = {"order_id": model.order_id}
        order = self.read("orders_get_order", **self.owner(path_params=path))
        events = self.read("orders_get_timeline", **self.owner(path_params=path))
        self.read("refund_request_list_order_refunds", **self.owner(path_params=path))
        self.read("payments_list_payments", user=OPS, groups=("ops",), path_params=path)
        if order is not None and events is not None:
            changes = [e for e in events["items"] if e["to_status"] is not None]
            if not changes or changes[-1]["to_status"] != order["status"]:
                self.violation("timeline_end", f"{model.order_id}: API timeline ends at {changes[-1:]}")

    def _refund_item(self, refund_id: str) -> dict[str, Any]:
        order_id = "ord_" + refund_id.split("_")[1]
        return self.w.ddb.get_item(  # type: ignore[no-any-return]
            TableName="OrdersTable",
            Key={"PK": {"S": f"ORDER#{order_id}"}, "SK": {"S": f"REFUND#{refund_id}"}},
            ConsistentRead=True,
        ).get("Item", {})

    def _partition(self, order_id: str) -> list[dict[str, Any]]:
        from orders.dal.dynamo import from_item

        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": "OrdersTable",
            "KeyConditionExpression": "PK = :pk",
            "ExpressionAttributeValues": {":pk": {"S": f"ORDER#{order_id}"}},
            "ConsistentRead": True,
        }
        while True:
            page = self.w.ddb.query(**kwargs)
            items += [from_item(i) for i in page["Items"]]
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def check_order(self, model: OrderModel, partition: list[dict[str, Any]]) -> None:
        order = next(i for i in partition if i["SK"] == "#ORDER")
        events = sorted((i for i in partition if i["SK"].startswith("#TL#")), key=lambda e: e["version"])
        refunds = [i for i in partition if i["SK"].startswith("REFUND#")]
        status, total, refunded = order["status"], order["total"], order.get("refunded_total", 0)
        oid = model.order_id
        if refunded > total:
            self.violation("over_refunded", f"{oid}: refunded {refunded} > total {total}")
        provider_refunds = sum(i["amount"] for i in partition if i.get("type") == "PROVIDER_REFUND")
        requested = sum(r["amount"] for r in refunds if r["status"] == "SUCCEEDED" and not r.get("automatic"))
        if refunded != requested + provider_refunds:
            self.violation(
                "refunded_total_mismatch",
                f"{oid}: refunded_total {refunded} != refunds {requested} + provider refunds {provider_refunds}",
            )
        if (status == "REFUNDED") != (refunded == total and status != "CANCELLED"):
            self.violation("refunded_status_mismatch", f"{oid}: {status} with refunded {refunded} of {total}")
        # Review: refunds approved by policy that moved money (or still may) add up, per order, to at most the
        # auto-approve limit. A FAILED one returned nothing and does not count, as in the rule itself.
        auto = sum(
            r["amount"]
            for r in refunds
            if r.get("decided_by") == "system:auto" and not r.get("automatic") and r["status"] != "FAILED"
        )
        if auto > AUTO_APPROVE_MAX:
            self.violation("auto_approved_over_limit", f"{oid}: {auto} approved without review")
        # Timeline: versions 1..n, and the last status change ends at the order's status.
        versions = [e["version"] for e in events]
        if versions != list(range(1, order["version"] + 1)):
            self.violation("timeline_gap", f"{oid}: versions {versions} for order version {order['version']}")
        changes = [e for e in events if e.get("to_status") is not None]
        if not changes or changes[-1]["to_status"] != status:
            self.violation("timeline_end", f"{oid}: timeline ends at {changes[-1:]}, order is {status}")
        if status == "PAID":
            # The fulfilment consumer moves every PAID order on (grant or warehouse) once the stream is delivered.
            self.violation("paid_not_fulfilled", f"{oid}: still PAID after the stream was delivered")
        self.check_entitlements(model, order, partition)
        if status == "CANCELLED" and model.intent:
            held = net_charged(self.w.fake, model.intent)
            automatic = [r for r in refunds if r.get("automatic") and r["status"] in ("APPROVED", "SUCCEEDED")]
            if held > 0 and model.success_delivered and not automatic:
                self.violation("cancelled_keeps_charge", f"{oid}: cancelled, {held} charged, no automatic refund")
        if status == "CANCELLED" and model.intent:
            with self.w.fake._lock:
                intent_status = self.w.fake.intents[model.intent]["status"]
            if intent_status not in ("canceled", "succeeded"):
                self.violation("cancelled_intent_open", f"{oid}: cancelled but its PaymentIntent is {intent_status}")

    def check_entitlements(self, model: OrderModel, order: dict[str, Any], partition: list[dict[str, Any]]) -> None:
        """The partial-refund rule (docs/refunds.md): of q units, floor(q * refunded / total) are revoked."""
        from orders.dal.dynamo import from_item

        grants = [
            from_item(i)
            for i in self.w.ddb.query(
                TableName="OrdersTable",
                KeyConditionExpression="PK = :pk AND begins_with(SK, :sk)",
                ExpressionAttributeValues={
                    ":pk": {"S": f"USER#{self.user}"},
                    ":sk": {"S": f"ENTITLEMENT#{model.order_id}#"},
                },
                ConsistentRead=True,
            )["Items"]
        ]
        status, total, refunded = order["status"], order["total"], order.get("refunded_total", 0)
        granted = bool(grants) or any(
            i["SK"].startswith("#TL#") and i.get("type") in ("GRANT", "START_FULFILMENT") for i in partition
        )
        if grants and status not in (*PAID_STATES, "REFUNDED"):
            self.violation("entitlement_unpaid", f"{model.order_id}: {status} order holds entitlements")
        if not granted:
            return
        for grant in grants:
            quantity = grant["quantity"]
            revoked = quantity if refunded >= total else quantity * refunded // total
            remaining = quantity - grant.get("revoked_quantity", 0)
            if remaining != quantity - revoked:
                self.violation(
                    "entitlement_not_revoked" if remaining > quantity - revoked else "entitlement_over_revoked",
                    f"{model.order_id}: {grant['sku']} keeps {remaining}/{quantity}, {refunded}/{total} refunded",
                )

    def check_stock(self, partitions: dict[str, list[dict[str, Any]]]) -> None:
        item = self.w.ddb.get_item(TableName="CatalogTable", Key={"sku": {"S": self.sku}}, ConsistentRead=True)["Item"]
        stock = int(item["stock"]["N"])
        held = 0
        for model in self.orders:
            if model.kind != "physical":
                continue
            order_item = next(i for i in partitions[model.order_id] if i["SK"] == "#ORDER")
            quantity = sum(line["quantity"] for line in order_item["items"])
            status = order_item["status"]
            if status in UNPAID or status in PAID_STATES or (status == "REFUNDED" and order_item.get("shipment")):
                held += quantity
        if stock + held != STOCKED:
            self.violation("stock_mismatch", f"{self.sku}: stock {stock} + held {held} != {STOCKED}")

    def teardown(self) -> None:
        """End workflows still waiting for a reviewer, so none outlives its history."""
        for refund_id in self.refunds:
            token = self._refund_item(refund_id).get("task_token", {}).get("S")
            if token:
                with contextlib.suppress(Exception):
                    self.w.flows.sfn.send_task_failure(taskToken=token, error="HistoryEnded")
        for refund_id in self.refunds:
            with contextlib.suppress(AssertionError, Exception):
                self.w.flows.wait(self.w.flows.execution_arn(SM, refund_id), timeout=10)
        for kind in self.found:
            self.w.violations[kind] += 1
        for model in self.orders:
            partition = self._partition(model.order_id)
            self.w.coverage["order " + next(i for i in partition if i["SK"] == "#ORDER")["status"]] += 1
            for item in partition:
                if item["SK"].startswith("REFUND#"):
                    self.w.coverage[("automatic refund " if item.get("automatic") else "refund ") + item["status"]] += 1
                elif item.get("type") == "PROVIDER_REFUND":
                    self.w.coverage["provider refund recorded"] += 1
        if SURVEY:
            self.w.write_summary(SURVEY)


@pytest.fixture
def runtime(aws: None) -> LambdaRuntime:
    refs = REFS | workflow_refs()
    return LambdaRuntime(refs, base_env=FAKE_AWS_ENV)


def test_random_histories_keep_the_books_balanced(runtime: LambdaRuntime) -> None:
    with world(runtime) as w:
        try:
            run_model(MoneyMachine, BUDGET, w)
        finally:
            print(f"\nmoney model: {json.dumps(w.summary())}")
            if SURVEY:
                w.write_summary(SURVEY)
