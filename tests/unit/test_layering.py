"""Layering: orders.logic makes no AWS or provider calls of its own; the handlers wire adapters in.

The logic imports no boto3 / botocore / stripe / requests / provider SDK and no orders.adapters
(the ports it needs are Protocols in orders.logic.ports). orders.dal is the DynamoDB data-access
layer the logic may use (docs/DEVELOPING.md). Imports inside functions and under TYPE_CHECKING count too,
except the ``mypy_boto3_*`` type stubs, which are types only. Each function's ``app.py`` wires the
adapters its logic receives, in one place.
"""

from __future__ import annotations

import ast
from pathlib import Path

from local_stack.template import ROOT

LOGIC = ROOT / "shared" / "orders" / "logic"
FORBIDDEN = ("boto3", "botocore", "stripe", "requests", "appstoreserverlibrary", "google", "orders.adapters")


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def offending(names: set[str]) -> set[str]:
    return {n for n in names if any(n == f or n.startswith(f + ".") for f in FORBIDDEN)}


def test_logic_imports_no_sdk_and_no_adapter() -> None:
    # Given every logic module's imports
    found = {path.stem: offending(imported_modules(path)) for path in sorted(LOGIC.glob("*.py"))}
    # Then none imports an SDK or an adapter
    assert {name: mods for name, mods in found.items() if mods} == {}


def test_logic_takes_no_client_from_the_dal() -> None:
    # Given the names every logic module imports from orders.dal
    taken = {
        (path.stem, f"{node.module}.{alias.name}")
        for path in sorted(LOGIC.glob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("orders.dal")
        for alias in node.names
    }
    # Then none is a boto3 client (the repositories use them; Powertools' idempotency store gets its
    # client from orders.adapters.idempotency, wired by the handler)
    assert {(name, imported) for name, imported in taken if imported.endswith("_client")} == set()


def test_handlers_are_where_adapters_are_wired() -> None:
    # Given the functions whose logic receives ports
    def imports(function: str) -> set[str]:
        return imported_modules(ROOT / "functions" / function / "app.py")

    # Then their handlers import the adapters they hand to the logic
    assert "orders.adapters.refund_gateway" in imports("refund_worker")
    assert {"orders.adapters.channels", "orders.adapters.clients"} <= imports("preferences")
    assert {
        "orders.adapters.channels",
        "orders.adapters.clients",
        "orders.adapters.contacts",
        "orders.adapters.eventbus",
    } <= imports("notify")
    assert "orders.adapters.payments" in imports("payments") & imports("payment_webhook") & imports("orders")
    assert "orders.adapters.payments" in imports("scheduler")
    assert "orders.adapters.idempotency" in imports("create_order") & imports("cart")
    assert "orders.adapters.report_store" in imports("daily_report")
