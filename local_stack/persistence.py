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
except that refunds and listings waiting for a review get a fresh review task (a new execution at
the waiting task, :func:`rearm_waiting_tasks`; the stack serves once they stored their tokens); SQS
messages, events on the buses and the inspection routes' history; stream positions.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Rearmed:
    """A restored item whose review was given a new execution, and that execution."""

    table: str
    key: tuple[Any, Any]  # moto's hash and range key values (range: None for a hash-only table)
    status: str  # the status the waiting task expects (it writes its token only on an item still in it)
    state_machine_arn: str
    execution_arn: str


def rearm_waiting_tasks(sfn: Any, created: Any) -> list[Rearmed]:
    """For each state machine with a ``...waitForTaskToken`` task that writes the token to an item
    (``UpdateExpression`` setting ``task_token``), start an execution at that task for every restored
    item it would write: still holding a token, in the status the task's condition expects, and with
    the key the task's ``Key`` makes of the execution's input (so a listing is not given a refund's
    execution: both wait in PENDING_REVIEW). The items are found in one pass over the table in this
    process (a Scan through moto re-sorts and re-walks the whole table for each 1 MB page, quadratic in
    the table's size). An execution's input is made of the item's attributes the task reads
    (``$.name``), and the seconds left until ``review_due_at`` for a ``TimeoutSecondsPath``.

    The token each item holds is the stopped process's: no execution waits on it any more, and a
    decision that resumed it would be recorded while the new execution, finding the item decided,
    failed. So it is removed (in moto's table, without a stream record) before the new execution
    starts: until that execution stores its own token, a decision answers "review not open yet, retry
    shortly" (409 ``REVIEW_NOT_OPEN`` / ``LISTING_REVIEW_NOT_OPEN``), as it does on AWS between a
    request and its workflow's first step. :func:`await_task_tokens` waits for the new tokens."""
    rearmed: list[Rearmed] = []
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
            expected = values.get(":pending", {}).get("S") or ""
            found = _take_stale_tokens(parameters["TableName"], expected, parameters["Key"])
            if not found:
                continue
            resumed = dict(definition, StartAt=name)
            resume_arn = sfn.create_state_machine(
                name=f"{described['name']}-resume-{int(time.time())}",
                definition=json.dumps(resumed),
                roleArn=described["roleArn"],
                type=described.get("type", "STANDARD"),
            )["stateMachineArn"]
            for key, execution_input in found:
                started = sfn.start_execution(stateMachineArn=resume_arn, input=json.dumps(execution_input))
                rearmed.append(Rearmed(parameters["TableName"], key, expected, resume_arn, started["executionArn"]))
            log.info("%s: %d execution(s) resumed at %s", logical_id, len(found), name)
    return rearmed


def _execution_input(item: Any) -> dict[str, Any]:
    from datetime import UTC, datetime

    plain = {name: value.value for name, value in item.attrs.items() if value.type in ("S", "N")}
    execution_input: dict[str, Any] = {
        key: plain[key]
        for key in ("refund_id", "order_id", "listing_id", "merchant_id", "review_due_at")
        if key in plain
    }
    execution_input["auto_approved"] = False
    if "review_due_at" in plain:
        due = datetime.fromisoformat(str(plain["review_due_at"]).replace("Z", "+00:00"))
        execution_input["review_timeout_seconds"] = max(1, int((due - datetime.now(UTC)).total_seconds()))
    return execution_input


_FORMAT = re.compile(r"States\.Format\('([^']*)'((?:\s*,\s*\$\.[A-Za-z0-9_]+)*)\s*\)")


def _render_key(template: Mapping[str, Any], execution_input: Mapping[str, Any]) -> dict[str, tuple[str, str]] | None:
    """The key (attribute → (type, value)) a task's ``Key`` parameter makes of ``execution_input``;
    None if the input lacks a field it reads. Knows the forms a key is written in: a literal
    (``{"S": "..."}``), a path (``{"S.$": "$.name"}``), ``States.Format('...{}...', $.a, ...)``."""
    key = {}
    for attribute, typed in template.items():
        ((kind, expression),) = typed.items()
        if not kind.endswith(".$"):
            key[attribute] = (kind, str(expression))
            continue
        if (fields := _path_fields(expression)) is None:
            raise ValueError(f"cannot re-arm: the key {attribute} = {expression!r} is not a path or States.Format")
        if any(name not in execution_input for name in fields):
            return None
        arguments = [str(execution_input[name]) for name in fields]
        match = _FORMAT.fullmatch(expression)
        key[attribute] = (kind[:-2], match.group(1).format(*arguments) if match else arguments[0])
    return key


def _path_fields(expression: str) -> list[str] | None:
    if re.fullmatch(r"\$\.[A-Za-z0-9_]+", expression):
        return [expression[2:]]
    match = _FORMAT.fullmatch(expression)
    if match is None:
        return None
    return re.findall(r"\$\.([A-Za-z0-9_]+)", match.group(2))


def _table(table_name: str) -> Any:
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    from local_stack.resources import REGION

    return dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION].tables.get(table_name)


def _take_stale_tokens(
    table_name: str, status: str, key_template: Mapping[str, Any]
) -> list[tuple[tuple[Any, Any], dict[str, Any]]]:
    """The items of ``table_name`` in ``status`` holding a ``task_token`` whose key is the one
    ``key_template`` makes of their execution input, read in one pass; each loses its token.
    Returns (moto key, execution input) per item."""
    from local_stack.moto_patches import WRITE_LOCK

    table = _table(table_name)
    if table is None:
        return []
    found = []
    with WRITE_LOCK:  # no write changes the table while it is read
        for item in _items(table):
            state = item.attrs.get("status")
            if "task_token" not in item.attrs or state is None or state.type != "S" or state.value != status:
                continue
            execution_input = _execution_input(item)
            key = _render_key(key_template, execution_input)
            if key is None or any(
                name not in item.attrs or (item.attrs[name].type, str(item.attrs[name].value)) != typed
                for name, typed in key.items()
            ):
                continue  # another task's item (same status, another key)
            del item.attrs["task_token"]
            found.append(((item.hash_key, item.range_key), execution_input))
    return found


def await_task_tokens(sfn: Any, rearmed: list[Rearmed], timeout: float) -> list[Rearmed]:
    """Wait (up to ``timeout`` seconds) until each re-armed execution stored its new task token (or
    no longer needs to: its item left the status, or the execution ended); returns those still
    waiting then. moto runs executions in threads: ``start_execution`` answers before the task ran."""
    from local_stack.moto_patches import WRITE_LOCK

    deadline = time.monotonic() + timeout
    pending = list(rearmed)
    while pending:
        with WRITE_LOCK:
            pending = [one for one in pending if _still_without_token(one)]
        if pending:
            running = _running_executions(sfn, {one.state_machine_arn for one in pending})
            pending = [one for one in pending if one.execution_arn in running]
        if not pending or time.monotonic() >= deadline:
            break
        time.sleep(0.05)
    return pending


def _still_without_token(rearmed: Rearmed) -> bool:
    table = _table(rearmed.table)
    hash_key, range_key = rearmed.key
    by_hash = table.items.get(hash_key) if table is not None else None
    item = by_hash if range_key is None else (by_hash or {}).get(range_key)
    if item is None or "task_token" in item.attrs:
        return False
    state = item.attrs.get("status")
    return state is not None and state.value == rearmed.status


def _running_executions(sfn: Any, state_machine_arns: set[str]) -> set[str]:
    running: set[str] = set()
    paginator = sfn.get_paginator("list_executions")
    for arn in state_machine_arns:
        for page in paginator.paginate(stateMachineArn=arn, statusFilter="RUNNING"):
            running.update(execution["executionArn"] for execution in page["executions"])
    return running


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
