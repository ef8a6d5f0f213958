"""State that survives a restart: `make run` keeps the stack's state on disk and restores it."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest

from local_stack.demo import Demo, browse, order, order_status, pay, refund, refunded, review, wait_for
from tests.e2e.conftest import local_stack_process

POSTER = {"sku": "poster-a2", "name": "Poster", "kind": "physical", "price": 1500, "currency": "USD", "stock": 10}
HOLD_SECONDS = 3.0  # how long the hook below holds a task token's write at most
STREAM_QUIET_SECONDS = 3.0  # several idle polls of the stream pollers (0.5 s), and their handlers' time


@contextmanager
def running_stack(state_dir: Path, *extra: str) -> Iterator[str]:
    """A stack process keeping its state in ``state_dir`` (as ``make run`` does with .local-state)."""
    log = state_dir.parent / f"stack-{len(list(state_dir.parent.glob('stack-*.log')))}.log"  # one per start
    with local_stack_process(log, "--state-dir", str(state_dir), *extra) as stack:
        yield stack.url


def test_orders_refunds_and_reviews_survive_a_restart_and_fresh_starts_empty(tmp_path: Path) -> None:
    state = tmp_path / "state"
    # Given a stack where a client ordered, paid, and asked for a refund that waits for a reviewer,
    # and ops created a product
    with running_stack(state) as url:
        demo = Demo(url)
        browse(demo)
        order(demo)
        pay(demo)
        refund(demo)
        demo.call("POST", "/products", as_user="ops", groups=("ops",), json=POSTER, expect=201)
        order_id, refund_id = demo.state["order"]["order_id"], demo.state["refund"]["refund_id"]
        ledger_before = demo.call("GET", f"/orders/{order_id}/payments", as_user="client")["items"]
        time.sleep(STREAM_QUIET_SECONDS)  # the stream consumers are done with every write
        published_before = demo.call("GET", "/_local/events")["items"]
    assert (state / "dynamodb" / "OrdersTable.jsonl").exists()
    assert published_before  # notify published the order's changes downstream (the bus tap saw them)

    # When the stack is started again on the same state
    with running_stack(state) as url:
        demo.url = url
        # Then the order, its ledger and the refund are there
        again = demo.call("GET", f"/orders/{order_id}", as_user="client")
        assert again["order_id"] == order_id
        assert demo.call("GET", f"/orders/{order_id}/payments", as_user="client")["items"] == ledger_before
        assert demo.call("GET", f"/refunds/{refund_id}", as_user="client")["status"] == "PENDING_REVIEW"
        assert demo.call("GET", f"/products/{POSTER['sku']}")["price"] == POSTER["price"]
        # and the stream consumers were not handed the restored items again: no downstream event is
        # published twice for what happened before the restart
        time.sleep(STREAM_QUIET_SECONDS)
        assert demo.call("GET", "/_local/events")["items"] == []
        # and the refund can still be reviewed and executed at the (restored) provider
        review(demo)
        refunded(demo)
        order_status(demo, "order", demo.call("GET", f"/orders/{order_id}", as_user="client")["status"])

    # When it is started with --fresh
    with running_stack(state, "--fresh") as url:
        # Then nothing of before is there
        demo.url = url
        demo.call("GET", f"/orders/{order_id}", as_user="client", expect=404)


LISTED = {
    "sku": "scarf-restart",
    "kind": "physical",
    "price": 3200,
    "currency": "USD",
    "name": "Wool Scarf",
    "description": "Merino wool.",
    "category": "apparel",
    "images": ["https://img.northloom.example/scarf/1.jpg"],
}


def in_queue(demo: Demo, listing_id: str) -> bool:
    queue = demo.call("GET", "/listings?status=PENDING_REVIEW", as_user="reviewer", groups=("reviewer",))
    return any(item["listing_id"] == listing_id for item in queue["items"])


def listing_waiting_for_review(state: Path) -> tuple[Demo, str]:
    """A stack on ``state`` where a merchant's listing waits for a reviewer; stopped (its state saved)."""
    from local_stack.auth import issue_token

    merchant = {"Authorization": "Bearer " + issue_token("shop-1", ["merchant"], merchant_id="north-loom")}
    with running_stack(state) as url:
        demo = Demo(url)
        listing_id = demo.call("POST", "/merchant/products", headers=merchant, json=LISTED, expect=202)["listing_id"]
        wait_for(demo, "the listing in the queue", lambda: in_queue(demo, listing_id))
    return demo, listing_id


def approve(demo: Demo, listing_id: str) -> dict[str, Any]:
    return demo.call(  # type: ignore[no-any-return]
        "POST",
        f"/listings/{listing_id}/decision",
        json={"decision": "approve"},
        as_user="reviewer",
        groups=("reviewer",),
    )


def rearmed_execution_ended(demo: Demo, sfn: Any, log: Callable[[], str]) -> None:
    """The re-armed listing execution (the one that holds the deadline now) ends SUCCEEDED; else why not."""
    (resumed,) = [m for m in sfn.list_state_machines()["stateMachines"] if "listing-resume" in m["name"]]
    (execution,) = sfn.list_executions(stateMachineArn=resumed["stateMachineArn"])["executions"]
    arn = execution["executionArn"]
    wait_for(
        demo, "the re-armed execution to end", lambda: sfn.describe_execution(executionArn=arn)["status"] != "RUNNING"
    )
    ended = sfn.describe_execution(executionArn=arn)
    assert ended["status"] == "SUCCEEDED", explain(sfn, ended, log())


def test_a_listing_under_review_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "state"
    # Given a merchant's listing waiting for a reviewer
    demo, listing_id = listing_waiting_for_review(state)
    # When the stack is started again on the same state
    with running_stack(state) as url:
        demo.url = url
        # Then the review waits again (its workflow re-armed at AwaitReview) and a reviewer's approval puts it on sale
        wait_for(demo, "the listing in the queue", lambda: in_queue(demo, listing_id))
        assert approve(demo, listing_id)["status"] == "APPROVED"
        assert demo.call("GET", "/products/scarf-restart")["merchant_id"] == "north-loom"
        # And the re-armed execution took the decision and ended Approved
        log = sorted(tmp_path.glob("stack-*.log"))[-1].read_text
        (endpoint,) = re.findall(r"moto\s+(http://127\.0\.0\.1:\d+)", log())
        sfn = boto3.client(
            "stepfunctions",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        rearmed_execution_ended(demo, sfn, log)


def test_a_decision_sent_as_soon_as_a_restarted_stack_answers_resumes_the_rearmed_review(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The interleaving a busy machine makes (CI: -n 2 on 2 cores) forced with a hook: the re-armed
    execution's thread is slow to store its new task token, and the reviewer decides at once."""
    from moto.dynamodb.responses import DynamoHandler

    from local_stack.stack import LocalStack

    state = tmp_path / "state"
    # Given a listing waiting for a reviewer, saved by a stack that was stopped
    demo, listing_id = listing_waiting_for_review(state)
    # and moto storing a task token only once the decision below was answered (or after HOLD_SECONDS)
    decided = threading.Event()
    store = DynamoHandler.update_item

    def held_token_write(handler: Any) -> Any:
        if "task_token" in str(handler.body.get("UpdateExpression", "")):
            decided.wait(HOLD_SECONDS)
        return store(handler)

    monkeypatch.setattr(DynamoHandler, "update_item", held_token_write)
    # When the stack is started again on that state (in this process, to hold the write) and a reviewer
    # approves the listing as soon as the stack answers
    with caplog.at_level(logging.INFO), LocalStack(port=0, state_dir=state) as stack:
        demo.url = stack.url
        try:
            decision = approve(demo, listing_id)
        finally:
            decided.set()
        # Then the approval stands and the listing is on sale
        assert decision["status"] == "APPROVED"
        assert demo.call("GET", "/products/scarf-restart")["merchant_id"] == "north-loom"
        # and the re-armed execution took the decision (not a token of the stopped stack) and ended Approved
        rearmed_execution_ended(demo, stack.client("stepfunctions"), lambda: caplog.text)


def explain(sfn: Any, execution: Mapping[str, Any], log: str) -> str:
    """Why an execution did not succeed: its error and cause, the states it went through (with their
    errors), and the stack's log lines of the review workflow (re-arm, worker, decisions)."""
    history = sfn.get_execution_history(executionArn=execution["executionArn"], maxResults=1000)["events"]
    steps = []
    for event in history:
        details: dict[str, Any] = next((value for key, value in event.items() if key.endswith("EventDetails")), {})
        what = {k: details[k] for k in ("name", "error", "cause") if k in details}
        steps.append(f"  {event['id']:>3} {event['type']} {what or ''}")
    related = [
        line[:600]
        for line in log.splitlines()
        if any(word in line for word in ("re-arm", "resumed", "decision", "Listing", "listing", "Task", "ERROR"))
    ]
    return "\n".join(
        [
            f"execution {execution['status']}: error={execution.get('error')!r} cause={execution.get('cause')!r}",
            "history:",
            *steps,
            "stack log (review workflow):",
            *related[-60:],
        ]
    )
