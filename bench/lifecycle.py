"""AWS API calls per operation, DynamoDB capacity units per lifecycle, Step Functions transitions per refund.

Starts the local stack in this process (moto, the real handlers, the stream pollers, the refund state
machine, the fake Stripe) with botocore hooks on every client (bench/awscalls.py), then drives orders
through their lives over HTTP: each step is an API call or an asynchronous consequence of one (Stripe's
webhook, stream records to fulfilment and notify, the refund workflow's Lambda tasks). For every
handler invocation it records the AWS calls by API and their capacity units, and compares each step
with the minimum it needs (MINIMUM below, with the reason).

    .venv/bin/python -m bench.lifecycle [--json build/bench/lifecycle.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "shared"), str(ROOT)]

from bench.awscalls import Invocation, Recorder  # noqa: E402
from local_stack.fake_refunds import substituted  # noqa: E402

PHYSICAL = {
    "items": [{"sku": "mug-classic", "quantity": 1}],
    "shipping_address": {"name": "Ada", "line1": "1 Row", "city": "London", "postal_code": "N1", "country": "GB"},
}
VIRTUAL = {"items": [{"sku": "coins-500", "quantity": 1}]}
# The bench's own polling (wait until paid, until reviewable) carries this header and is not counted.
PROBE = {"X-Bench-Probe": "1"}

# The least each step can do, and why: (calls, reason). A step is flagged above minimum + 1.
MINIMUM: dict[str, tuple[int, str]] = {
    "create order": (
        3,
        "with an Idempotency-Key: claim the key (conditional PutItem), read the prices (BatchGetItem on the "
        "catalog), write order + timeline + stock reservations in one TransactWriteItems; storing the response "
        "on the key (UpdateItem) is the +1",
    ),
    "start payment": (2, "read the order (GetItem), record the provider reference (PutItem/Transact)"),
    "payment webhook": (
        2,
        "resolve the provider reference to the order (GetItem), then ledger entry + status change + timeline "
        "in one TransactWriteItems (the ledger key is the dedupe key)",
    ),
    "payment webhook (duplicate)": (
        1,
        "resolve the provider reference and see the ledger entry exists (one read): nothing to write",
    ),
    "fulfilment (stream)": (
        2,
        "read the order's lines (GetItem; the stream image has them, so 1 is possible), grant + status change "
        "in one TransactWriteItems",
    ),
    "notify (stream)": (
        0,
        "per status change: read preferences (+devices) in one Query, a conditional PutItem per channel as "
        "dedupe, the send (SES/SNS), PutEvents to the bus; records that are not status changes need nothing",
    ),
    "ship": (2, "read the order (GetItem or Query), conditional TransactWriteItems (order + timeline)"),
    "deliver": (2, "read the order, conditional TransactWriteItems (order + timeline)"),
    "confirm receipt": (2, "read the order, conditional TransactWriteItems (order + timeline)"),
    "refund request": (
        3,
        "read the order (GetItem), reserve the amount + write the refund in one TransactWriteItems, StartExecution",
    ),
    "refund decision": (
        3,
        "read the refund with its task token (and the order it changes), record the decision in one "
        "conditional write, SendTaskSuccess/Failure to resume the workflow",
    ),
    "list orders page": (1, "one Query on GSI1/GSI2 (limit + 1 items)"),
    "get order": (1, "one GetItem (or Query of the order alone)"),
    "timeline": (1, "one Query: the order and its timeline share a partition (SK BETWEEN #ORDER AND #TL$)"),
    "refund task open": (2, "read the refund (GetItem), write the timeline event / auto-approval (Transact)"),
    "refund task execute": (1, "read the refund and order (one read); the provider call is not AWS; finalize writes"),
    "refund task record": (2, "read, then one TransactWriteItems: refund status + order totals + timeline"),
}


class Driver:
    """The local stack with its handlers counted, and an HTTP client acting as user, ops and reviewer."""

    def __init__(self) -> None:
        self.recorder = Recorder()
        self.stack: Any = None
        self.demo: Any = None
        self._original_invoke: Any = None
        self._in_flight = 0

    @contextmanager
    def running(self) -> Iterator[Driver]:
        import boto3

        from local_stack.demo import Demo
        from local_stack.runtime import LambdaRuntime
        from local_stack.stack import LocalStack, free_port

        self.recorder.install()
        original = LambdaRuntime.invoke
        driver = self

        def invoke(runtime: LambdaRuntime, logical_id: str, event: Any) -> Any:
            driver._in_flight += 1
            try:
                with driver.recorder.invocation(logical_id, describe(event)):
                    return original(runtime, logical_id, event)
            finally:
                driver._in_flight -= 1

        LambdaRuntime.invoke = invoke  # type: ignore[method-assign,assignment]
        stack = LocalStack(port=free_port())
        try:
            stack.start()
            self.stack = stack
            session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1")  # noqa: S106
            self.recorder.describe_tables(
                session.client("dynamodb", endpoint_url=stack.moto_endpoint),
                list(stack.created.tables.values()) if stack.created else [],
            )
            self.demo = Demo(stack.url)
            yield self
        finally:
            stack.stop()
            LambdaRuntime.invoke = original  # type: ignore[method-assign]
            self.recorder.uninstall()

    # --- driving -----------------------------------------------------------------------------
    def settle(self, quiet: float = 0.8, timeout: float = 30.0) -> None:
        """Wait until no handler ran for ``quiet`` seconds (webhooks, streams and workflows are asynchronous)."""
        deadline = time.monotonic() + timeout
        last = (-1, time.monotonic())
        while time.monotonic() < deadline:
            count = len(self.recorder.invocations)
            if count != last[0] or self._in_flight:
                last = (count, time.monotonic())
            elif time.monotonic() - last[1] >= quiet:
                return
            time.sleep(0.05)

    def step(self, name: str, action: Callable[[], Any], steps: list[dict[str, Any]]) -> Any:
        self.settle()
        first = len(self.recorder.invocations)
        result = action()
        self.settle()
        invocations = sorted(
            (i for i in self.recorder.invocations[first:] if i.label != "probe"), key=lambda i: i.started
        )
        steps.append({"step": name, "invocations": [summary(i) for i in invocations]})
        return result

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.demo.call(method, path, **kwargs)

    def order(self, body: dict[str, Any]) -> dict[str, Any]:
        key = {"Idempotency-Key": uuid.uuid4().hex}  # as the app sends it: a retry returns the same order
        created: dict[str, Any] = self.call("POST", "/orders", as_user="client", json=body, expect=201, headers=key)
        return created

    def start_payment(self, order_id: str) -> dict[str, Any]:
        intent: dict[str, Any] = self.call(
            "POST", f"/orders/{order_id}/payments", as_user="client", json={"provider": "stripe"}, expect=201
        )
        return intent

    def confirm(self, reference: str) -> bool:
        stripe = self.stack.stripe_server.url
        response = self.demo.http.post(
            f"{stripe}/v1/payment_intents/{reference}/confirm",
            data={"payment_method": "pm_card_visa"},
            headers={"Authorization": f"Bearer {self.stack.stripe.api_key}"},
            timeout=30,
        )
        response.raise_for_status()
        return True

    def wait_status(self, order_id: str, *wanted: str, timeout: float = 20.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            with self.recorder.suspended():
                order: dict[str, Any] = self.call("GET", f"/orders/{order_id}", as_user="client", headers=PROBE)
            if order["status"] in wanted or time.monotonic() > deadline:
                return order
            time.sleep(0.1)

    def paid(self, body: dict[str, Any]) -> dict[str, Any]:
        order = self.order(body)
        intent = self.start_payment(order["order_id"])
        self.confirm(intent["payment_reference"])
        self.wait_status(order["order_id"], "PENDING_SHIPMENT", "COMPLETED")
        self.settle()
        return order

    def refund(self, order_id: str, amount: int, reason: str = "arrived chipped") -> dict[str, Any]:
        refund: dict[str, Any] = self.call(
            "POST",
            f"/orders/{order_id}/refunds",
            as_user="client",
            json={"amount": amount, "reason": reason},
            expect=202,
        )
        return refund

    def wait_reviewable(self, refund_id: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.recorder.suspended():
                queue = self.call(
                    "GET", "/refunds?status=PENDING_REVIEW", as_user="reviewer", groups=("reviewer",), headers=PROBE
                )
            if any(r["refund_id"] == refund_id for r in queue["items"]):
                return
            time.sleep(0.1)
        raise TimeoutError(f"{refund_id} never reached the review queue")

    def decide(self, refund_id: str, decision: str) -> Any:
        return self.call(
            "POST",
            f"/refunds/{refund_id}/decision",
            as_user="reviewer",
            groups=("reviewer",),
            json={"decision": decision, "note": "bench"},
        )

    def execution(self, refund_id: str, timeout: float = 30.0) -> dict[str, Any]:
        sfn = self.stack.client("stepfunctions")
        arn = self.stack.created.refs["RefundStateMachine"].replace(":stateMachine:", ":execution:") + f":{refund_id}"
        deadline = time.monotonic() + timeout
        with self.recorder.suspended():
            while True:
                described: dict[str, Any] = sfn.describe_execution(executionArn=arn)
                if described["status"] != "RUNNING" or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
        states = [e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")]
        return {"status": described["status"], "transitions": len(states), "states": states}


def describe(event: Any) -> str:
    if not isinstance(event, dict):
        return "?"
    if "httpMethod" in event and "X-Bench-Probe" in (event.get("headers") or {}):
        return "probe"
    if "httpMethod" in event:
        return f"{event['httpMethod']} {event['resource']}"
    if "Records" in event:
        kinds = []
        for record in event["Records"]:
            image = record.get("dynamodb", {}).get("NewImage") or record.get("dynamodb", {}).get("OldImage") or {}
            sk = image.get("SK", {}).get("S", "?")
            kind = sk.split("#")[1] if sk.startswith("#") else sk.split("#")[0]
            status = image.get("status", {}).get("S")
            kinds.append(f"{record.get('eventName', '?')} {kind}" + (f" {status}" if status else ""))
        return "stream: " + ", ".join(kinds)
    if "action" in event:
        return f"task {event['action']}"
    if "job" in event:
        return f"job {event['job']}"
    return ",".join(sorted(event))[:60]


def summary(invocation: Invocation) -> dict[str, Any]:
    return {
        "function": invocation.function,
        "event": invocation.label,
        "apis": invocation.by_api(),
        "ms": round(invocation.seconds * 1000, 1),
        **{k: round(v, 2) for k, v in invocation.totals().items()},
        **({"error": invocation.error} if invocation.error else {}),
    }


def physical_lifecycle(driver: Driver, steps: list[dict[str, Any]]) -> dict[str, Any]:
    order = driver.step("create order", lambda: driver.order(PHYSICAL), steps)
    order_id = order["order_id"]
    intent = driver.step("start payment", lambda: driver.start_payment(order_id), steps)
    driver.step(
        "payment webhook + fulfilment + notify",
        lambda: (driver.confirm(intent["payment_reference"]), driver.wait_status(order_id, "PENDING_SHIPMENT")),
        steps,
    )
    stripe = driver.stack.stripe
    delivery = next(d for d in reversed(stripe.deliveries) if d.event.get("type") == "payment_intent.succeeded")
    driver.step("payment webhook (duplicate)", lambda: stripe.deliver(delivery), steps)
    path = f"/orders/{order_id}"
    ship = {"carrier": "DHL", "tracking_number": "JD014600006281230704"}
    driver.step(
        "ship", lambda: driver.call("POST", f"{path}/shipments", as_user="ops", groups=("ops",), json=ship), steps
    )
    driver.step("deliver", lambda: driver.call("POST", f"{path}/delivery", as_user="ops", groups=("ops",)), steps)
    driver.step("confirm receipt", lambda: driver.call("POST", f"{path}/confirm-receipt", as_user="client"), steps)
    driver.step("list orders page", lambda: driver.call("GET", "/orders?status=COMPLETED", as_user="client"), steps)
    driver.step("get order", lambda: driver.call("GET", path, as_user="client"), steps)
    driver.step("timeline", lambda: driver.call("GET", f"{path}/events", as_user="client"), steps)
    refund = driver.step("refund request", lambda: driver.refund(order_id, order["total"]), steps)
    driver.wait_reviewable(refund["refund_id"])
    driver.step("refund decision (approve) + execution", lambda: driver.decide(refund["refund_id"], "approve"), steps)
    return {"order_id": order_id, "refund_id": refund["refund_id"]}


def virtual_lifecycle(driver: Driver, steps: list[dict[str, Any]]) -> dict[str, Any]:
    order = driver.step("create order", lambda: driver.order(VIRTUAL), steps)
    order_id = order["order_id"]
    intent = driver.step("start payment", lambda: driver.start_payment(order_id), steps)
    driver.step(
        "payment webhook + grant + notify",
        lambda: (driver.confirm(intent["payment_reference"]), driver.wait_status(order_id, "COMPLETED")),
        steps,
    )
    return {"order_id": order_id}


def refund_paths(driver: Driver, approved_refund: str) -> dict[str, Any]:
    paths: dict[str, Any] = {"approve": driver.execution(approved_refund)}
    rejected = driver.paid(PHYSICAL)
    refund = driver.refund(rejected["order_id"], rejected["total"])
    driver.wait_reviewable(refund["refund_id"])
    driver.decide(refund["refund_id"], "reject")
    paths["reject"] = driver.execution(refund["refund_id"])
    auto = driver.paid(VIRTUAL)
    paths["auto-approve"] = driver.execution(driver.refund(auto["order_id"], auto["total"])["refund_id"])
    runtime = driver.stack.runtime
    with substituted():  # the refunds below go to a stand-in provider that refuses on cue
        failed = driver.paid(PHYSICAL)
        refund = driver.refund(failed["order_id"], failed["total"], reason="broken [fake:fail]")
        driver.wait_reviewable(refund["refund_id"])
        driver.decide(refund["refund_id"], "approve")
        paths["failed (provider refuses)"] = driver.execution(refund["refund_id"])
        runtime.set_ref("RefundReviewTimeoutSeconds", "2")
        late = driver.paid(PHYSICAL)
        refund = driver.refund(late["order_id"], late["total"])
        paths["timeout (deadline passes, action approve)"] = driver.execution(refund["refund_id"])
        driver.settle()
    return paths


def flag(steps: list[dict[str, Any]]) -> None:
    """Each invocation next to its step's minimum; the +1 rule."""
    for step in steps:
        for inv in step["invocations"]:
            key = minimum_key(step["step"], inv)
            if key is None:
                continue
            least, why = MINIMUM[key]
            inv["minimum"] = least
            inv["minimum_reason"] = why
            inv["within_target"] = inv["calls"] <= least + 1


def minimum_key(step: str, inv: dict[str, Any]) -> str | None:
    function, event = inv["function"], inv["event"]
    if function == "PaymentWebhookFunction":
        return "payment webhook (duplicate)" if "duplicate" in step else "payment webhook"
    if function == "FulfilmentFunction":
        return "fulfilment (stream)"
    if function == "NotifyFunction":
        return None  # depends on the records in the batch: reported as measured
    if function == "RefundWorkerFunction":
        return {"task open": "refund task open", "task execute": "refund task execute"}.get(event, "refund task record")
    if function == "RefundReviewFunction" and event.startswith("POST"):
        return "refund decision"
    for name in ("create order", "start payment", "ship", "deliver", "confirm receipt", "refund request"):
        if step.startswith(name):
            return name
    return {"GET /orders": "list orders page", "GET /orders/{order_id}": "get order"}.get(
        event, "timeline" if event.endswith("/events") else None
    )


def totals(steps: list[dict[str, Any]]) -> dict[str, Any]:
    apis: dict[str, int] = {}
    out = {"invocations": 0, "calls": 0, "rcu": 0.0, "wcu": 0.0, "index_wcu": 0.0}
    for step in steps:
        for inv in step["invocations"]:
            out["invocations"] += 1
            for k in ("calls", "rcu", "wcu", "index_wcu"):
                out[k] += inv[k]
            for api, n in inv["apis"].items():
                apis[api] = apis.get(api, 0) + n
    return {**{k: round(v, 2) for k, v in out.items()}, "apis": dict(sorted(apis.items()))}


def run(quick: bool = False) -> dict[str, Any]:
    driver = Driver()
    with driver.running():
        from local_stack.demo import preferences

        preferences(driver.demo)  # the user wants e-mail: notify sends one per status change
        physical: list[dict[str, Any]] = []
        virtual: list[dict[str, Any]] = []
        ids = physical_lifecycle(driver, physical)
        virtual_lifecycle(driver, virtual)
        refunds = {} if quick else refund_paths(driver, ids["refund_id"])
        outside: dict[str, int] = {}
        for _, call in driver.recorder.outside:
            key = f"{call.service}.{call.operation}"
            outside[key] = outside.get(key, 0) + 1
    flag(physical)
    flag(virtual)
    return {
        "physical_lifecycle": {"steps": physical, "total": totals(physical)},
        "virtual_lifecycle": {"steps": virtual, "total": totals(virtual)},
        "refund_paths": refunds,
        "calls_outside_handlers": outside,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="lifecycles only, no refund paths")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    results = run(quick=args.quick)
    for name in ("physical_lifecycle", "virtual_lifecycle"):
        print(f"== {name}")
        for step in results[name]["steps"]:
            for inv in step["invocations"]:
                mark = "" if inv.get("within_target", True) else "  ABOVE MIN+1"
                print(
                    f"{step['step']:<38} {inv['function']:<24} {inv['event'][:48]:<48} calls={inv['calls']:<3}"
                    f" min={inv.get('minimum', '-')} rcu={inv['rcu']} wcu={inv['wcu']}+{inv['index_wcu']}{mark}"
                )
        print("total", results[name]["total"])
    for path, info in results["refund_paths"].items():
        print(f"refund {path}: {info['status']} {info['transitions']} transitions {info['states']}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
