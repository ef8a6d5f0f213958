"""The in-process Lambda runtime: each function reads only its own settings, as in its own process,
and invocations run at once, as Lambda runs them, each isolated from the others."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from local_stack.resources import base_refs
from local_stack.runtime import LambdaRuntime
from local_stack.template import load_template
from orders.config import get_config


@pytest.fixture
def runtime() -> Iterator[LambdaRuntime]:
    saved = dict(os.environ)
    yield LambdaRuntime(base_refs(load_template()))
    os.environ.clear()
    os.environ.update(saved)


def slow_function(table: str, **properties: Any) -> dict[str, Any]:
    return {
        "Type": "AWS::Serverless::Function",
        "Properties": {
            "CodeUri": "tests/tooling/fixtures/slow/",
            "Handler": "app.lambda_handler",
            "Environment": {"Variables": {"ORDERS_TABLE": table, "POWERTOOLS_SERVICE_NAME": table.lower()}},
            **properties,
        },
    }


@pytest.fixture
def slow() -> LambdaRuntime:
    """Two functions that read their settings before and after holding for a while."""
    template = {
        "Resources": {
            "SlowA": slow_function("TableA"),
            "SlowB": slow_function("TableB"),
            "SlowOne": slow_function("TableOne", ReservedConcurrentExecutions=1),
        }
    }
    return LambdaRuntime({}, template=template, concurrency=4)


def at_once(runtime: LambdaRuntime, calls: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Invoke every (function, event) from its own thread, all released together."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def call(index: int, function: str, event: dict[str, Any]) -> None:
        barrier.wait()
        results[index] = runtime.invoke(function, event)

    threads = [threading.Thread(target=call, args=(i, *c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    return results


def overlap(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return bool(a["started"] < b["ended"] and b["started"] < a["ended"])


def test_a_function_does_not_see_the_settings_of_the_function_before_it(runtime: LambdaRuntime) -> None:
    # Given the catalog function ran (it has CATALOG_TABLE)
    runtime.activate("CatalogFunction")
    assert get_config().catalog_table == "CatalogTable"
    # When the payment webhook function runs (it has no CATALOG_TABLE in template.yaml)
    runtime.activate("PaymentWebhookFunction")
    # Then its settings lack the catalog table, as they would in its own Lambda process
    assert get_config().catalog_table is None
    with pytest.raises(RuntimeError, match="CATALOG_TABLE is not set"):
        get_config().table("catalog_table")
    assert get_config().orders_table == "OrdersTable"


def test_functions_never_switch_the_process_environment(runtime: LambdaRuntime) -> None:
    # Other threads read os.environ while functions run: no function's variables go there
    before = dict(os.environ)
    runtime.activate("CatalogFunction")
    runtime.activate("PaymentWebhookFunction")
    assert dict(os.environ) == before


def test_two_invocations_of_the_same_function_overlap(slow: LambdaRuntime) -> None:
    # When two invocations of one function arrive together
    first, second = at_once(slow, [("SlowA", {}), ("SlowA", {})])
    # Then they ran at the same time, on two threads, as two requests
    assert overlap(first, second)
    assert first["thread"] != second["thread"]
    assert first["request_id"] != second["request_id"]
    assert slow.peak["SlowA"] == 2


def test_concurrent_invocations_of_two_functions_each_read_their_own_settings(slow: LambdaRuntime) -> None:
    # When two functions with different settings run at once, each twice
    results = at_once(slow, [("SlowA", {}), ("SlowB", {}), ("SlowA", {}), ("SlowB", {})])
    # Then they overlapped, and each invocation read its own function's settings all along
    assert overlap(results[0], results[1])
    for result in results:
        expected = "TableA" if result["function"] == "SlowA" else "TableB"
        assert (result["table_before"], result["table_after"]) == (expected, expected)
    # and the caller's own settings were never touched
    assert get_config().orders_table is None


def test_a_function_runs_at_most_its_concurrency_at_once(slow: LambdaRuntime) -> None:
    # Given a pool of 4 per function, and a function whose template reserves 1
    assert (slow.concurrency["SlowA"], slow.concurrency["SlowOne"]) == (4, 1)
    # When 6 invocations of the first, and 2 of the second, arrive together
    calls = [("SlowA", {"hold": 0.2})] * 6 + [("SlowOne", {"hold": 0.2})] * 2
    results = at_once(slow, calls)
    # Then all ran, never more than the pool at once: the rest waited for a slot
    assert all(r is not None for r in results)
    assert slow.peak == {"SlowA": 4, "SlowB": 0, "SlowOne": 1}
    one = [r for r in results if r["function"] == "SlowOne"]
    assert not overlap(one[0], one[1])
