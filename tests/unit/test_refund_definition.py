"""statemachines/refund.asl.json: structurally sound before it ever runs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from local_stack.template import ROOT, load_template, resources

SM = resources(load_template(), "AWS::Serverless::StateMachine")["RefundStateMachine"]["Properties"]
DEFINITION: dict[str, Any] = json.loads((ROOT / SM["DefinitionUri"]).read_text())
STATES: dict[str, dict[str, Any]] = DEFINITION["States"]


def targets(state: dict[str, Any]) -> Iterator[str]:
    for key in ("Next", "Default"):
        if key in state:
            yield state[key]
    for choice in state.get("Choices", []):
        yield choice["Next"]
    for catch in state.get("Catch", []):
        yield catch["Next"]


def test_every_target_exists_and_every_state_is_reachable() -> None:
    assert DEFINITION["StartAt"] in STATES
    seen, todo = set(), [DEFINITION["StartAt"]]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for target in targets(STATES[name]):
            assert target in STATES, f"{name} → {target}: no such state"
            todo.append(target)
    assert seen == set(STATES), f"unreachable: {set(STATES) - seen}"


def test_every_waiting_task_has_a_deadline_and_every_lambda_task_retries_and_catches() -> None:
    tasks = {name: state for name, state in STATES.items() if state["Type"] == "Task"}
    waiting = [name for name, state in tasks.items() if state["Resource"].endswith(".waitForTaskToken")]
    assert waiting == ["AwaitReview"]
    for name in waiting:
        assert "TimeoutSeconds" in tasks[name] or "TimeoutSecondsPath" in tasks[name], name
        assert any("States.Timeout" in c["ErrorEquals"] for c in tasks[name]["Catch"]), name
    lambdas = [name for name, state in tasks.items() if ":lambda:" in state["Resource"]]
    assert lambdas
    for name in lambdas:
        state = tasks[name]
        assert state["Retry"], name
        assert all(r["MaxAttempts"] <= 5 for r in state["Retry"]), name
        assert any("States.ALL" in c["ErrorEquals"] for c in state["Catch"]), name


def test_transient_provider_errors_are_retried_with_backoff_and_the_rest_fail_visibly() -> None:
    retry = {e: r for r in STATES["ExecuteRefund"]["Retry"] for e in r["ErrorEquals"]}
    assert retry["TransientProviderError"]["BackoffRate"] > 1
    # Everything unrecoverable reaches MarkFailed, which ends the execution FAILED
    for name, state in STATES.items():
        if state["Type"] == "Task" and name != "MarkFailed":
            assert [c["Next"] for c in state["Catch"] if "States.ALL" in c["ErrorEquals"]] == ["MarkFailed"], name
    assert STATES["MarkFailed"]["Next"] == "RefundFailed"
    assert STATES["RefundFailed"]["Type"] == "Fail"


def test_the_review_task_stores_the_token_conditionally_and_waits_with_the_configured_deadline() -> None:
    review = STATES["AwaitReview"]
    assert review["Resource"] == "arn:aws:states:::aws-sdk:dynamodb:updateItem.waitForTaskToken"
    assert review["TimeoutSecondsPath"] == "$.review_timeout_seconds"
    params = review["Parameters"]
    assert params["ExpressionAttributeValues"][":token"] == {"S.$": "$$.Task.Token"}
    assert params["ConditionExpression"] == "#status = :pending"


def test_substitutions_are_exactly_those_the_template_provides() -> None:
    text = (ROOT / SM["DefinitionUri"]).read_text()
    used = {part.split("}", 1)[0] for part in text.split("${")[1:]}
    assert used == set(SM["DefinitionSubstitutions"])
    assert SM["Type"] == "STANDARD"
