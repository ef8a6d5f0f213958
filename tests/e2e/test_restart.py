"""State that survives a restart: `make run` keeps the stack's state on disk and restores it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from local_stack.demo import Demo, browse, order, order_status, pay, refund, refunded, review
from local_stack.stack import free_port
from local_stack.template import ROOT


@contextmanager
def running_stack(state_dir: Path, *extra: str) -> Iterator[str]:
    """``python -m local_stack`` on a free port with this state folder; stopped with Ctrl-C (SIGINT)."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "POWERTOOLS_"))}
    log_path = state_dir.parent / f"stack-{port}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "local_stack", "--port", str(port), "--state-dir", str(state_dir), *extra],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the local stack did not come up:\n{log_path.read_text()[-3000:]}")
            try:
                if requests.get(f"{url}/products", timeout=30).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        yield url
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_orders_refunds_and_reviews_survive_a_restart_and_fresh_starts_empty(tmp_path: Path) -> None:
    state = tmp_path / "state"
    # Given a stack where a client ordered, paid, and asked for a refund that waits for a reviewer
    with running_stack(state) as url:
        demo = Demo(url)
        browse(demo)
        order(demo)
        pay(demo)
        refund(demo)
        order_id, refund_id = demo.state["order"]["order_id"], demo.state["refund"]["refund_id"]
        ledger_before = demo.call("GET", f"/orders/{order_id}/payments", as_user="client")["items"]
    assert (state / "dynamodb" / "OrdersTable.jsonl").exists()

    # When the stack is started again on the same state
    with running_stack(state) as url:
        demo.url = url
        # Then the order, its ledger and the refund are there
        again = demo.call("GET", f"/orders/{order_id}", as_user="client")
        assert again["order_id"] == order_id
        assert demo.call("GET", f"/orders/{order_id}/payments", as_user="client")["items"] == ledger_before
        assert demo.call("GET", f"/refunds/{refund_id}", as_user="client")["status"] == "PENDING_REVIEW"
        # and the refund can still be reviewed and executed at the (restored) provider
        review(demo)
        refunded(demo)
        order_status(demo, "order", demo.call("GET", f"/orders/{order_id}", as_user="client")["status"])

    # When it is started with --fresh
    with running_stack(state, "--fresh") as url:
        # Then nothing of before is there
        demo.url = url
        demo.call("GET", f"/orders/{order_id}", as_user="client", expect=404)
