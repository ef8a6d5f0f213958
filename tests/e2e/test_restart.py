"""State that survives a restart: `make run` keeps the stack's state on disk and restores it."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3

from local_stack.demo import Demo, browse, order, order_status, pay, refund, refunded, review
from tests.e2e.conftest import local_stack_process

POSTER = {"sku": "poster-a2", "name": "Poster", "kind": "physical", "price": 1500, "currency": "USD", "stock": 10}
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


def test_a_listing_under_review_survives_a_restart(tmp_path: Path) -> None:
    from local_stack.auth import issue_token
    from local_stack.demo import wait_for

    state = tmp_path / "state"
    merchant = {"Authorization": "Bearer " + issue_token("shop-1", ["merchant"], merchant_id="north-loom")}
    product = {
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

    # Given a merchant's listing waiting for a reviewer
    with running_stack(state) as url:
        demo = Demo(url)
        listing_id = demo.call("POST", "/merchant/products", headers=merchant, json=product, expect=202)["listing_id"]
        wait_for(demo, "the listing in the queue", lambda: in_queue(demo, listing_id))
    # When the stack is started again on the same state
    with running_stack(state) as url:
        demo.url = url
        # Then the review waits again (its workflow re-armed at AwaitReview) and a reviewer's approval puts it on sale
        wait_for(demo, "the listing in the queue", lambda: in_queue(demo, listing_id))
        decided = demo.call(
            "POST",
            f"/listings/{listing_id}/decision",
            as_user="reviewer",
            groups=("reviewer",),
            json={"decision": "approve"},
        )
        assert decided["status"] == "APPROVED"
        assert demo.call("GET", "/products/scarf-restart")["merchant_id"] == "north-loom"
        # And the re-armed execution (the one that holds the deadline now) took the decision and ended Approved
        log = sorted(tmp_path.glob("stack-*.log"))[-1].read_text()
        (endpoint,) = re.findall(r"moto\s+(http://127\.0\.0\.1:\d+)", log)
        sfn = boto3.client(
            "stepfunctions",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        (resumed,) = [m for m in sfn.list_state_machines()["stateMachines"] if "listing-resume" in m["name"]]
        (execution,) = sfn.list_executions(stateMachineArn=resumed["stateMachineArn"])["executions"]
        wait_for(
            demo,
            "the re-armed execution to end",
            lambda: sfn.describe_execution(executionArn=execution["executionArn"])["status"] != "RUNNING",
        )
        assert sfn.describe_execution(executionArn=execution["executionArn"])["status"] == "SUCCEEDED"
