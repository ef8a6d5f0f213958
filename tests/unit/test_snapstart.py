"""SnapStart: every Python function is published with a snapshot behind an alias, and its before-snapshot hook
makes the clients and builds the models without calling AWS."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import snapshot_restore_py  # type: ignore[import-untyped]
from pydantic_core import SchemaValidator

from local_stack.template import ROOT, load_template, resources
from orders import snapstart
from orders.dal.dynamo import dynamodb_client
from orders.models.base import Model

TEMPLATE = load_template()


def _translated() -> dict[str, Any]:
    spec = importlib.util.spec_from_file_location("translate_template", ROOT / "tools" / "translate_template.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.translate(ROOT / "template.yaml")["Resources"]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def translated() -> dict[str, Any]:
    return _translated()


def test_every_python_function_snapshots_its_published_versions(translated: dict[str, Any]) -> None:
    functions = {k: v["Properties"] for k, v in translated.items() if v["Type"] == "AWS::Lambda::Function"}
    assert len(functions) == len(resources(TEMPLATE, "AWS::Serverless::Function"))
    for name, props in functions.items():
        assert props["Runtime"].startswith("python3.1") and props["Runtime"] >= "python3.12", name
        assert props.get("SnapStart") == {"ApplyOn": "PublishedVersions"}, f"{name}: no SnapStart"
        # What SnapStart does not support (AWS docs, "Supported features and limitations").
        assert "ProvisionedConcurrencyConfig" not in props and "FileSystemConfigs" not in props, name
        assert props.get("EphemeralStorage", {"Size": 512})["Size"] <= 512, name
    aliases = {v["Properties"]["FunctionName"]["Ref"] for v in translated.values() if v["Type"] == "AWS::Lambda::Alias"}
    assert aliases == set(functions)


def test_every_caller_invokes_the_alias_never_latest(translated: dict[str, Any]) -> None:
    # $LATEST is never snapshotted: an event source or a workflow task pointed at it would start cold.
    aliases = {k for k, v in translated.items() if v["Type"] == "AWS::Lambda::Alias"}
    targets = [
        (k, v["Properties"]["FunctionName"])
        for k, v in translated.items()
        if v["Type"] in ("AWS::Lambda::Permission", "AWS::Lambda::EventSourceMapping")
    ]
    assert targets
    for name, target in targets:
        assert target.get("Ref") in aliases, f"{name} targets {target}"
    machine = translated["RefundStateMachine"]["Properties"]
    assert machine["DefinitionSubstitutions"]["RefundWorkerFunctionArn"]["Ref"] in aliases
    invoke = [
        s
        for policy in translated["RefundStateMachineRole"]["Properties"]["Policies"]
        for s in policy["PolicyDocument"]["Statement"]
        if s["Action"] == ["lambda:InvokeFunction"]
    ]
    assert [s["Resource"]["Ref"] in aliases for s in invoke] == [True]


def test_the_before_snapshot_hook_is_registered_once() -> None:
    registered = [func for func, _, _ in snapshot_restore_py.get_before_snapshot()]
    assert registered.count(snapstart.warm) == 1


@pytest.fixture
def create_order_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from orders import cache

    for name, value in {"ORDERS_TABLE": "OrdersTable", "IDEMPOTENCY_TABLE": "IdempotencyTable"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("EVENT_BUS_NAME", raising=False)
    cache.reset()
    dynamodb_client.cache_clear()
    yield
    dynamodb_client.cache_clear()


def test_the_hook_makes_the_clients_the_config_names_and_builds_the_models(create_order_environment: None) -> None:
    # Given a model not used yet (its validator is deferred) and no client made
    class NotUsedYet(Model):
        amount: int

    assert not isinstance(NotUsedYet.__pydantic_validator__, SchemaValidator)
    assert dynamodb_client.cache_info().currsize == 0
    # When the runtime runs the hook before the snapshot
    made = snapstart.warm()
    # Then the DynamoDB client exists (made, not called: no endpoint is reachable here), no event bus client
    # (this environment names no bus), and the model is built
    assert dynamodb_client.cache_info().currsize == 1
    assert "orders.dal.dynamo:dynamodb_client" in made
    assert "orders.adapters.clients:events_client" not in made
    assert isinstance(NotUsedYet.__pydantic_validator__, SchemaValidator)
    assert f"{__name__}.{NotUsedYet.__qualname__}" in made


def test_a_part_that_fails_is_left_for_the_first_request(
    create_order_environment: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(snapstart.CLIENTS, "orders_table", "orders.no_such_module:client")
    made = snapstart.warm()
    assert "orders.no_such_module:client" not in made
    assert "config" in made


def test_a_function_that_calls_the_providers_imports_their_sdks_before_the_snapshot(
    create_order_environment: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a function that imported the code calling the providers (PaymentWebhookFunction, PaymentsFunction)
    monkeypatch.setitem(sys.modules, "orders.logic.payments", sys.modules.get("orders.logic.payments", sys))
    made = snapstart.warm()
    assert {"stripe", "appstoreserverlibrary.signed_data_verifier", "google.oauth2.id_token"} <= set(made)
