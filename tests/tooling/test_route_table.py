"""The README's route table is generated from docs/openapi.json (`make openapi`), and who may call each route
comes from the route's own declaration in its handler (orders.http: requires_role, owner_or, signed_by)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from local_stack.template import ROOT, function_specs, load_template
from orders.http import owner_or, requires_role, signed_by
from orders.roles import STAFF_READERS, Role
from tools.openapi import callers
from tools.route_table import (
    BEGIN,
    END,
    FUNCTIONS_BEGIN,
    FUNCTIONS_END,
    documents_with_route_tables,
    function_rows,
    render,
    render_functions,
    replace,
    rows,
    update,
)

README = ROOT / "README.md"
COMMITTED = json.loads((ROOT / "docs" / "openapi.json").read_text())


def test_the_readme_route_table_is_what_make_openapi_writes() -> None:
    # Given the README and the committed OpenAPI document (test_openapi.py: that is what the handlers generate)
    text = README.read_text()
    # Then the table between the markers is the one rendered from the document, and there is one
    assert replace(text, render(COMMITTED)) == text, "the README's route table is stale: run `make openapi`"


def test_the_architecture_function_table_is_what_make_openapi_writes() -> None:
    # Given docs/architecture.md and the template
    text = (ROOT / "docs" / "architecture.md").read_text()
    # Then its function table is the one rendered from the template and the handlers' docstrings
    table = render_functions(load_template())
    assert replace(text, table, FUNCTIONS_BEGIN, FUNCTIONS_END) == text, "stale function table: run `make openapi`"


def test_the_function_table_names_every_function_and_every_route_once() -> None:
    specs = function_specs(load_template())
    listed = function_rows(load_template())
    assert [row[0].split(" ")[0] for row in listed] == list(specs)
    routes = [f"`{r.method} {r.path}`" for spec in specs.values() for r in spec.routes]
    triggers = ", ".join(row[1] for row in listed)
    assert all(triggers.count(route + ",") + triggers.endswith(route) == 1 for route in routes)
    # And the functions without an API say what runs them
    assert "RefundStateMachine task steps" in triggers and "ListingStateMachine task steps" in triggers


def test_the_table_has_one_row_per_route_of_the_template() -> None:
    routes = {(r.method, r.path) for s in function_specs(load_template()).values() for r in s.routes}
    listed = [row[0].strip("`").split("?")[0] for row in rows(COMMITTED)]
    assert sorted(listed) == sorted(f"{method} {path}" for method, path in routes)


def test_a_hand_edit_of_the_table_is_caught() -> None:
    # Given the README with one row changed by hand
    text = README.read_text()
    edited = text.replace("| owner, ops, reviewer, support | Read an order", "| owner | Read an order", 1)
    assert edited != text
    # Then it is not what the generator writes
    assert replace(edited, render(COMMITTED)) != edited


def test_the_table_is_written_only_between_its_markers() -> None:
    table = render(COMMITTED)
    text = f"prose before\n\n{BEGIN}\n| old |\n{END}\n\nprose after\n"
    assert replace(text, table) == f"prose before\n\n{table}\n\nprose after\n"
    with pytest.raises(ValueError, match="expected one"):
        replace("no markers here", table)
    with pytest.raises(ValueError, match="expected one"):
        replace(text + text, table)


def _route(*decorators: Any) -> SimpleNamespace:
    def func() -> None: ...

    for decorate in decorators:
        decorate(func)
    return SimpleNamespace(method="GET", path="/things/<thing_id>", func=func)


@pytest.mark.parametrize(
    ("decorators", "authorized", "expected"),
    [
        ((), False, ["anyone"]),
        ((), True, ["user"]),
        ((requires_role(Role.OPS, Role.MERCHANT),), True, ["merchant", "ops"]),
        ((owner_or(),), True, ["owner"]),
        ((owner_or(*STAFF_READERS),), True, ["owner", "ops", "reviewer", "support"]),
        ((signed_by("Stripe"),), False, ["Stripe (signed)"]),
    ],
)
def test_who_may_call_a_route_comes_from_its_declaration(
    decorators: tuple[Any, ...], authorized: bool, expected: list[str]
) -> None:
    assert callers(_route(*decorators), authorized) == expected


@pytest.mark.parametrize(
    ("decorators", "authorized"),
    [
        ((signed_by("Stripe"),), True),  # a signed route behind the authorizer
        ((owner_or(),), False),  # an owner's route served without a token
        ((requires_role(Role.OPS),), False),
        ((requires_role(Role.OPS), owner_or()), True),  # two declarations
    ],
)
def test_a_declaration_that_contradicts_the_template_or_another_is_refused(
    decorators: tuple[Any, ...], authorized: bool
) -> None:
    with pytest.raises(ValueError, match="GET /things"):
        callers(_route(*decorators), authorized)


def test_owner_or_refuses_unknown_roles() -> None:
    with pytest.raises(ValueError, match="unknown roles"):
        owner_or("admin")


def test_every_route_on_a_users_order_refund_or_ticket_declares_who_may_call_it() -> None:
    # Given the routes behind the authorizer whose path names a user's order, refund or ticket
    owned = re.compile(r"\{(order_id|refund_id|ticket_id)\}")
    for path, operations in COMMITTED["paths"].items():
        for method, operation in operations.items():
            if "security" in operation and owned.search(path):
                # Then each declares owner_or or requires_role in its handler (else the table says "user")
                assert operation["x-callers"] != ["user"], (method.upper(), path)


@pytest.mark.parametrize("path", documents_with_route_tables(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_route_table_in_the_docs_is_what_make_openapi_writes(path: Path) -> None:
    # Given a doc with route tables (the README; an area's doc with its tags' rows)
    text = path.read_text()
    # Then each is the one rendered from the committed document
    assert update(text, COMMITTED) == text, f"{path.relative_to(ROOT)}: stale route table, run `make openapi`"


def test_area_docs_hold_the_rows_of_their_tags() -> None:
    # Given the docs that hold route tables
    documents = {path.name for path in documents_with_route_tables()}
    assert {"README.md", "refunds.md", "merchants.md"} <= documents
    # Then a block with tags lists exactly the operations of those tags
    table = render(COMMITTED, ("refunds",))
    refunds = [
        f"{m.upper()} {p}" for p, ops in COMMITTED["paths"].items() for m, o in ops.items() if o["tags"] == ["refunds"]
    ]
    assert len(table.splitlines()) == len(refunds) + 4 and all(f"`{r}" in table for r in refunds)
    # And a marker naming a tag the document does not have is refused
    stale = f"{render(COMMITTED, ('refunds',)).replace('tags: refunds', 'tags: refundz')}"
    with pytest.raises(ValueError, match="unknown tags"):
        update(stale, COMMITTED)
