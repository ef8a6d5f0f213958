"""The local stack's state on disk: saved while it runs and when it stops, restored when it starts.

moto keeps everything in memory and has no snapshot of its own (its "recorder" replays every
request, side effects and all). What a developer would miss after a restart is data, so that is
what is kept, under ``.local-state/`` (git-ignored):

- ``dynamodb/<LogicalId>.jsonl``: every item of every table of the template (orders, timelines,
  the payment ledger, refunds, products made by ops, idempotency records, notifications), one
  item per line in DynamoDB JSON, read from moto's tables under its write lock (so never half a
  transaction);
- ``stripe.json``: the fake Stripe's payment intents, charges and refunds (a refund of an order
  paid before the restart needs its intent);
- ``webhooks.json``: webhooks not delivered yet (``local_stack.webhook_retry``).

Restored items go back into the tables without stream records: they were delivered before.
Not restored (see docs/local-stack.md): Step Functions executions (moto runs them in threads),
except that refunds waiting for a review get a fresh review task; SQS messages, events on the
buses and the inspection routes' history; stream positions.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

log = logging.getLogger("local_stack.state")

STATE_DIR_NAME = ".local-state"
STRIPE_FIELDS = ("intents", "charges", "refunds")


def _tables(names: Mapping[str, str]) -> dict[str, Any]:
    """Logical id → moto's table object (the stack's moto runs in this process)."""
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    from local_stack.resources import REGION

    backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION]
    return {logical_id: backend.tables[name] for logical_id, name in names.items() if name in backend.tables}


def save_tables(directory: Path, names: Mapping[str, str]) -> int:
    """Write every item of every table; returns how many items were written."""
    from local_stack.moto_patches import WRITE_LOCK

    target = directory / "dynamodb"
    target.mkdir(parents=True, exist_ok=True)
    total = 0
    for logical_id, table in _tables(names).items():
        with WRITE_LOCK:  # a consistent table: no write (nor transaction) in between
            lines = [json.dumps(item.to_json()["Attributes"], separators=(",", ":")) for item in table.all_items()]
        temporary = target / f"{logical_id}.jsonl.tmp"
        temporary.write_text("\n".join(lines) + ("\n" if lines else ""))
        os.replace(temporary, target / f"{logical_id}.jsonl")
        total += len(lines)
    return total


def restore_tables(directory: Path, names: Mapping[str, str]) -> int:
    """Put back the saved items (no stream records); returns how many."""
    source = directory / "dynamodb"
    total = 0
    for logical_id, table in _tables(names).items():
        path = source / f"{logical_id}.jsonl"
        if not path.exists():
            continue
        shard, table.stream_shard = table.stream_shard, None  # restored writes are not news
        try:
            with path.open() as lines:
                for line in lines:
                    if line.strip():
                        table.put_item(json.loads(line))
                        total += 1
        finally:
            table.stream_shard = shard
    return total


def save_stripe(directory: Path, fake: Any) -> None:
    with fake._lock:
        data = {name: getattr(fake, name) for name in STRIPE_FIELDS if isinstance(getattr(fake, name, None), dict)}
        text = json.dumps(data)
    temporary = directory / "stripe.json.tmp"
    temporary.write_text(text)
    os.replace(temporary, directory / "stripe.json")


def restore_stripe(directory: Path, fake: Any) -> int:
    path = directory / "stripe.json"
    if not path.exists():
        return 0
    data = json.loads(path.read_text())
    with fake._lock:
        for name, objects in data.items():
            if isinstance(getattr(fake, name, None), dict):
                getattr(fake, name).update(objects)
    return sum(len(objects) for objects in data.values())


def rearm_waiting_tasks(sfn: Any, ddb: Any, created: Any) -> int:
    """For each state machine with a ``...waitForTaskToken`` task that writes the token to an item
    (``UpdateExpression`` setting ``task_token``), start an execution at that task for every restored
    item still holding a token and in the status the task's condition expects. Its input is made of
    the item's attributes the task reads (``$.name``), and the seconds left until ``review_due_at``
    for a ``TimeoutSecondsPath``. Returns how many were started."""
    from datetime import UTC, datetime

    started = 0
    for logical_id, arn in created.state_machines.items():
        described = sfn.describe_state_machine(stateMachineArn=arn)
        definition = json.loads(described["definition"])
        waiting = {
            name: state
            for name, state in definition.get("States", {}).items()
            if str(state.get("Resource", "")).endswith(".waitForTaskToken")
            and "task_token" in str(state.get("Parameters", {}).get("UpdateExpression", ""))
        }
        for name, state in waiting.items():
            parameters = state["Parameters"]
            values = parameters.get("ExpressionAttributeValues", {})
            expected = values.get(":pending", {}).get("S")
            table = parameters["TableName"]
            items = [
                item
                for page in ddb.get_paginator("scan").paginate(
                    TableName=table,
                    FilterExpression="attribute_exists(task_token) AND #s = :s",
                    ExpressionAttributeNames={"#s": "status"},
                    ExpressionAttributeValues={":s": {"S": expected or ""}},
                )
                for item in page["Items"]
            ]
            if not items:
                continue
            resumed = dict(definition, StartAt=name)
            resume_arn = sfn.create_state_machine(
                name=f"{described['name']}-resume-{int(time.time())}",
                definition=json.dumps(resumed),
                roleArn=described["roleArn"],
                type=described.get("type", "STANDARD"),
            )["stateMachineArn"]
            for item in items:
                plain = {key: next(iter(value.values())) for key, value in item.items() if len(value) == 1}
                execution_input: dict[str, Any] = {
                    key: plain[key]
                    for key in ("refund_id", "order_id", "listing_id", "merchant_id", "review_due_at")
                    if key in plain
                }
                execution_input["auto_approved"] = False
                if "review_due_at" in plain:
                    due = datetime.fromisoformat(str(plain["review_due_at"]).replace("Z", "+00:00"))
                    execution_input["review_timeout_seconds"] = max(1, int((due - datetime.now(UTC)).total_seconds()))
                sfn.start_execution(stateMachineArn=resume_arn, input=json.dumps(execution_input))
                started += 1
            log.info("%s: %d execution(s) resumed at %s", logical_id, len(items), name)
    return started


class Saver:
    """Saves the state every ``interval`` seconds when something was written, and once at the end."""

    def __init__(self, save: Callable[[], None], changes: Callable[[], int], interval: float = 10.0) -> None:
        self._save, self._changes, self.interval = save, changes, interval
        self._seen = changes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="state-saver", daemon=True)
        self.last_seconds = 0.0

    def start(self) -> Saver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)
        self.save_now()

    def save_now(self) -> None:
        self._seen = self._changes()
        began = time.perf_counter()
        self._save()
        self.last_seconds = time.perf_counter() - began

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            if self._changes() != self._seen:
                try:
                    self.save_now()
                except Exception:
                    log.exception("saving the local state failed; will try again")
