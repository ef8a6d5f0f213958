"""Print the OpenAPI document of the whole API (docs/openapi.json is this script's output).

Paths, parameters and bodies come from the handlers' Powertools routes (their pydantic models);
which operations need a token comes from template.yaml; every error uses the one error body.
Who may call each operation is ``x-callers`` (from the route's ``requires_role``, ``owner_or`` or
``signed_by`` declaration in orders.http, else "user" behind the authorizer and "anyone" without it);
tools/route_table.py writes the README's route table from this document.
Usage: python tools/openapi.py > docs/openapi.json   (or `make openapi`, which also writes the table)
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "shared"), str(ROOT)]
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "1")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

from aws_lambda_powertools.event_handler import APIGatewayRestResolver  # noqa: E402
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, Server, Tag  # noqa: E402

from local_stack.template import function_specs, load_template  # noqa: E402
from orders.http import owner_readers, required_roles, signer  # noqa: E402
from orders.models.api import ErrorBody  # noqa: E402

ERRORS = {
    "400": "Malformed request (invalid JSON: syntax, nesting too deep, an integer too long; invalid cursor)",
    "401": "Missing or invalid bearer token",
    "403": "The caller's role does not allow this",
    "404": "Not found (another user's order reads as not found)",
    "409": "Conflict: illegal status transition, concurrent change, or Idempotency-Key reuse",
    "422": "The request does not match the schema, or names something unsellable",
}

# The operations' tags, in the order the README's route table lists them (a route's tag must be one of these).
TAGS = {
    "catalog": "Products and categories: browse, search, and (ops) create and change",
    "cart": "A user's cart and its checkout",
    "orders": "A user's orders",
    "payments": "Paying an order, the payment ledger, the providers' webhooks",
    "fulfilment": "Shipping, carrier tracking, delivery, receipt, entitlements",
    "refunds": "Refund requests and their review",
    "after-sales": "Feedback and support tickets",
    "notifications": "A user's notification preferences and devices",
    "reports": "Reports for analysts",
    "merchants": "A merchant's shop: profile, orders, proposed products",
    "listings": "The review of merchants' proposed products",
}


def callers(route: Any, authorized: bool) -> list[str]:
    """Who may call a route, from its declaration in the handler (orders.http) and its template event."""
    roles, readers, sender = required_roles(route.func), owner_readers(route.func), signer(route.func)
    where = f"{route.method} {route.path}"
    if sender is not None:
        if authorized or roles or readers is not None:
            raise ValueError(f"{where}: signed_by is for routes without a token (Auth: NONE) and nothing else")
        return [f"{sender} (signed)"]
    if not authorized:
        if roles or readers is not None:
            raise ValueError(f"{where}: declares callers but template.yaml serves it without a token")
        return ["anyone"]
    if roles and readers is not None:
        raise ValueError(f"{where}: declare requires_role or owner_or, not both")
    if readers is not None:
        return ["owner", *readers]
    return list(roles) or ["user"]


def build() -> dict[str, Any]:
    specs = function_specs(load_template())
    app = APIGatewayRestResolver(enable_validation=True)
    for spec in sorted(specs.values(), key=lambda s: s.logical_id):
        router = getattr(spec.load_module(), "router", None)
        if router is not None:  # functions without routes (stream consumers, tasks) have none
            app.include_router(router)
    document: dict[str, Any] = json.loads(
        app.get_openapi_json_schema(
            title="Order management API",
            version="1.0.0",
            description="Orders, payments, refunds and fulfilment. Money is integer minor units plus an "
            "ISO 4217 currency; times are ISO-8601 UTC; errors are {code, message, details?}.",
            servers=[Server(url="http://127.0.0.1:3000", description="local stack")],
            security_schemes={"cognito": HTTPBearer(bearerFormat="JWT", description="Cognito ID token")},
            tags=[Tag(name=name, description=text) for name, text in TAGS.items()],
        )
    )
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["ErrorBody"] = ErrorBody.model_json_schema()
    for name in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        schemas.pop(name, None)
    authorized = {(r.method.lower(), r.path): r.authorized for s in specs.values() for r in s.routes}
    routes = {
        (route.method.lower(), re.sub(r"<(\w+)>", r"{\1}", route.path)): route
        for route in app._static_routes + app._dynamic_routes
    }
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            needs_token = authorized[(method, path)]
            if needs_token:
                operation["security"] = [{"cognito": []}]
            codes = ["400", "422"]
            codes += ["401", "403"] if needs_token else []
            codes += ["404"] if "{" in path else []
            codes += ["409"] if method == "post" else []
            responses = operation.setdefault("responses", {})
            for code in sorted(codes):
                responses[code] = {
                    "description": ERRORS[code],
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
                }
            route = routes[(method, path)]
            operation["x-callers"] = callers(route, needs_token)
            unknown = set(operation.get("tags", [])) - set(TAGS)
            if len(operation.get("tags", [])) != 1 or unknown:
                raise ValueError(f"{method.upper()} {path}: one tag, one of tools/openapi.py's TAGS: {sorted(unknown)}")
            staff = required_roles(route.func)
            if staff:
                operation["x-required-roles"] = list(staff)
                responses["403"]["description"] = (
                    f"FORBIDDEN unless the caller is in the group {' or '.join(staff)}; checked before the "
                    "request is validated, so a caller without the role never gets a 422"
                )
    return document


if __name__ == "__main__":
    json.dump(build(), sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
