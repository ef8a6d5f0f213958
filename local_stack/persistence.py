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

import gc
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
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
        with WRITE_LOCK:  # a consistent table: no write (nor transaction) in between; copies, not text
            items = [item.to_json()["Attributes"] for item in _items(table)]
        lines = [json.dumps(item, separators=(",", ":")) for item in items]  # writes go on meanwhile
        temporary = target / f"{logical_id}.jsonl.tmp"
        temporary.write_text("\n".join(lines) + ("\n" if lines else ""))
        os.replace(temporary, target / f"{logical_id}.jsonl")
        total += len(lines)
    return total


def restore_tables(directory: Path, names: Mapping[str, str]) -> int:
    """Put back the saved items (no stream records); returns how many.

    One pass, constant work per item: each saved line becomes a moto ``Item`` placed in its table.
    Not through ``Table.put_item``: it builds the item attribute by attribute, and moto's
    ``LimitedSizeDict`` re-measures the whole item on every attribute (quadratic in an item's
    attributes; most of a restore's time), to enforce the 400 KB limit each saved item already
    passed when it was written. Nor through the API (a request per item). No stream record is
    made: restored writes were delivered before the restart.

    The cyclic garbage collector is paused meanwhile: the load makes millions of objects that all
    live on, and each collection it would trigger walks them again (half the time of a restore).
    """
    source = directory / "dynamodb"
    total = 0
    collecting = gc.isenabled()
    gc.disable()
    try:
        total = _load(source, names)
    finally:
        if collecting:
            gc.enable()
    return total


def _load(source: Path, names: Mapping[str, str]) -> int:
    total = 0
    for logical_id, table in _tables(names).items():
        path = source / f"{logical_id}.jsonl"
        if not path.exists():
            continue
        with path.open() as lines:
            for number, line in enumerate(lines, 1):
                if line.strip():
                    try:
                        _place(table, json.loads(line))
                    except (ValueError, KeyError, TypeError) as exc:
                        raise ValueError(f"{path}:{number}: not an item of {logical_id} ({exc!r})") from exc
                    total += 1
    return total


def _place(table: Any, attributes: dict[str, Any]) -> None:
    """Put one saved item (DynamoDB JSON) into moto's table as ``Table.put_item`` stores it."""
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    item = Item(DynamoType(attributes[table.hash_key_attr]), None, {})
    # dict.update, not item.attrs[key] = ...: LimitedSizeDict only checks the size in __setitem__
    # (moto's own Item.__deepcopy__ copies attributes past it the same way).
    item.attrs.update({name: DynamoType(value) for name, value in attributes.items()})
    if table.range_key_attr is None:
        table.items[item.hash_key] = item
    else:
        item.range_key = DynamoType(attributes[table.range_key_attr])
        table.items[item.hash_key][item.range_key] = item


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


def rearm_waiting_tasks(sfn: Any, created: Any) -> int:
    """For each state machine with a ``...waitForTaskToken`` task that writes the token to an item
    (``UpdateExpression`` setting ``task_token``), start an execution at that task for every restored
    item still holding a token and in the status the task's condition expects (found in one pass over
    the table in this process: a Scan through moto re-sorts and re-walks the whole table for each 1 MB
    page, quadratic in the table's size). Its input is made of
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
            items = _waiting_items(parameters["TableName"], expected or "")
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


def _waiting_items(table_name: str, status: str) -> list[dict[str, Any]]:
    """Items of ``table_name`` holding a ``task_token`` in ``status`` (DynamoDB JSON), read in one pass."""
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    from local_stack.moto_patches import WRITE_LOCK
    from local_stack.resources import REGION

    table = dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION].tables.get(table_name)
    if table is None:
        return []
    found = []
    with WRITE_LOCK:  # the API already serves: no write changes the table while it is read
        for item in _items(table):
            state = item.attrs.get("status")
            if "task_token" in item.attrs and state is not None and state.type == "S" and state.value == status:
                found.append(item.to_json()["Attributes"])
    return found


def _items(table: Any) -> Iterator[Any]:
    """Every item of a moto table, in no order (``Table.all_items`` sorts them all first)."""
    if table.range_key_attr is None:
        yield from table.items.values()
    else:
        for by_range in table.items.values():
            yield from by_range.values()


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
