"""docs/openapi.json is current and agrees with template.yaml and the public contract."""

from __future__ import annotations

import json

from local_stack.template import ROOT, function_specs, load_template
from tools.openapi import build

COMMITTED = json.loads((ROOT / "docs" / "openapi.json").read_text())


def test_committed_document_is_what_the_code_generates() -> None:
    # Fails when a route or model changed without `make openapi`.
    assert build() == COMMITTED


def test_document_has_exactly_the_routes_of_the_template() -> None:
    routes = {(r.method.lower(), r.path) for s in function_specs(load_template()).values() for r in s.routes}
    documented = {(method, path) for path, ops in COMMITTED["paths"].items() for method in ops}
    assert documented == routes


def test_operations_behind_the_authorizer_declare_the_bearer_token() -> None:
    specs = function_specs(load_template())
    for spec in specs.values():
        for route in spec.routes:
            operation = COMMITTED["paths"][route.path][route.method.lower()]
            assert ("security" in operation) == route.authorized, (route.method, route.path)


def test_contract_fields_of_an_order_are_documented() -> None:
    order = COMMITTED["components"]["schemas"]["OrderOut"]["properties"]
    for field in (
        "order_id",
        "user_id",
        "status",
        "items",
        "currency",
        "subtotal",
        "shipping_fee",
        "total",
        "refunded_total",
        "created_at",
        "updated_at",
    ):
        assert field in order, field
    assert COMMITTED["paths"]["/orders"]["post"]["responses"].keys() >= {"201", "409", "422"}
