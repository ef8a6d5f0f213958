"""Print the OpenAPI document of the whole API (docs/openapi.json is this script's output).

Paths, parameters and bodies come from the handlers' Powertools routes (their pydantic models);
which operations need a token comes from template.yaml; every error uses the one error body.
Usage: python tools/openapi.py > docs/openapi.json   (or `make openapi`)
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
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, Server  # noqa: E402

from local_stack.template import function_specs, load_template  # noqa: E402
from orders.http import required_roles  # noqa: E402
from orders.models.api import ErrorBody  # noqa: E402

ERRORS = {
    "400": "Malformed request (invalid JSON: syntax, nesting too deep, an integer too long; invalid cursor)",
    "401": "Missing or invalid bearer token",
    "403": "The caller's role does not allow this",
    "404": "Not found (another user's order reads as not found)",
    "409": "Conflict: illegal status transition, concurrent change, or Idempotency-Key reuse",
    "422": "The request does not match the schema, or names something unsellable",
}


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
        )
    )
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["ErrorBody"] = ErrorBody.model_json_schema()
    for name in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        schemas.pop(name, None)
    authorized = {(r.method.lower(), r.path): r.authorized for s in specs.values() for r in s.routes}
    roles = {
        (route.method.lower(), re.sub(r"<(\w+)>", r"{\1}", route.path)): required_roles(route.func)
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
            staff = roles.get((method, path))
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
