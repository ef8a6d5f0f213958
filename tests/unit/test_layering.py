"""Layering: orders.logic makes no AWS or provider calls of its own; the handlers wire adapters in.

The logic imports no boto3 / botocore / stripe / requests / provider SDK and no orders.adapters
(the ports it needs are Protocols in orders.logic.ports). orders.dal is the DynamoDB data-access
layer the logic may use (docs/DEVELOPING.md). Imports inside functions and under TYPE_CHECKING count too,
except the ``mypy_boto3_*`` type stubs, which are types only.
"""

from __future__ import annotations

import ast
from pathlib import Path

from local_stack.template import ROOT

LOGIC = ROOT / "shared" / "orders" / "logic"
FORBIDDEN = ("boto3", "botocore", "stripe", "requests", "appstoreserverlibrary", "google", "orders.adapters")

# Logic modules that still build their own adapters (issue 16: each gets its ports wired by its
# handler, then leaves this list). The test fails if a module not listed here imports an adapter,
# and if a listed module no longer does (so the list only shrinks).
NOT_YET_WIRED = {
    "email_events": {"orders.adapters.channels"},
    "idempotency": {"orders.dal.dynamo"},  # a boto3 client for Powertools' persistence layer
    "notify": {
        "orders.adapters.channels",
        "orders.adapters.clients",
        "orders.adapters.eventbus",
        "orders.adapters.contacts",
    },
    "payments": {"orders.adapters.payments", "orders.adapters.payments.tokens"},
    "reports": {"orders.adapters.report_store"},
}


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
    # Then only the modules still awaiting their wiring import an SDK or an adapter
    unexpected = {name: mods for name, mods in found.items() if mods and name not in NOT_YET_WIRED}
    assert unexpected == {}


def test_the_not_yet_wired_list_only_shrinks() -> None:
    # Given the listed modules
    for name, expected in NOT_YET_WIRED.items():
        imported = imported_modules(LOGIC / f"{name}.py")
        # Then each still imports what it is listed for (remove it from the list once wired)
        assert expected <= imported, (name, expected - imported)


def test_handlers_are_where_adapters_are_wired() -> None:
    # Given the refund worker and the preferences function, whose logic receives its ports
    worker = imported_modules(ROOT / "functions" / "refund_worker" / "app.py")
    preferences = imported_modules(ROOT / "functions" / "preferences" / "app.py")
    # Then their handlers import the adapters they hand to the logic
    assert "orders.adapters.refund_gateway" in worker
    assert {"orders.adapters.channels", "orders.adapters.clients"} <= preferences
