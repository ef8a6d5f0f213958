"""Write events/*.json: one API Gateway REST proxy event per route, built from the handlers' route table.

Each route is written once, in its handler (``@router.get("/orders/<order_id>")``); template.yaml gives
it an Api event on the same function (tests/tooling/test_template.py checks that they agree). The sample
request takes the first of the ``examples`` of each path, query and header parameter (only parameters
that have examples), and the first of the request body model's ``examples``. Bodies that a handler reads
raw, in a provider's own format (webhooks), are in PROVIDER_REQUESTS below.

The file is events/<folder>_<handler>.json (just <handler> when its name starts with the folder name). The
shape is that of `sam local generate-event apigateway aws-proxy`, with the Cognito authorizer's claims in
requestContext. Run again after adding or changing a route: `make events` (API event files no route makes
any more are removed). Tests load these files and vary them; `sam local invoke -e` uses them as they are.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Any, get_args
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "shared"), str(ROOT)]
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "1")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

from pydantic import BaseModel  # noqa: E402

from local_stack.apigw import Match, Route, build_event, routes_of  # noqa: E402
from local_stack.template import FunctionSpec, HandlerRoute, function_specs, load_template  # noqa: E402

USER = "user-0001"
SAMPLE_TIME = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)

# Requests in a provider's format, which the handler reads raw (to check its signature): by sample name.
# The signatures here are placeholders (tests sign their own bodies with test keys).
PROVIDER_REQUESTS: dict[str, dict[str, Any]] = {
    "payment_webhook_stripe_webhook": {
        "headers": {"Stripe-Signature": "t=1795320000,v1=" + "0" * 64},
        "body": {
            "id": "evt_0123456789",
            "object": "event",
            "type": "payment_intent.succeeded",
            "livemode": False,
            "created": 1795320000,
            "data": {
                "object": {
                    "id": "pi_0123456789",
                    "object": "payment_intent",
                    "amount": 1499,
                    "currency": "usd",
                    "status": "succeeded",
                    "metadata": {"order_id": "ord_0123456789abcdef0123456789abcdef"},
                }
            },
        },
    },
    "payment_webhook_apple_webhook": {
        "body": {"signedPayload": "eyJhbGciOiJFUzI1NiIsIng1YyI6WyIuLi4iXX0.e30.signature"},
    },
    "payment_webhook_google_webhook": {
        "headers": {"Authorization": "Bearer eyJhbGciOiJSUzI1NiJ9.e30.signature"},
        "body": {
            "message": {
                "data": base64.b64encode(
                    b'{"version":"1.0","packageName":"com.example.orders","testNotification":{"version":"1.0"}}'
                ).decode(),
                "messageId": "1234567890",
                "publishTime": "2026-11-22T04:00:00Z",
            },
            "subscription": "projects/example/subscriptions/play-rtdn",
        },
    },
    # The signature is a placeholder (tests sign their own bodies with orders.logic.carriers.sign).
    "carrier_tracking_carrier_webhook": {
        "headers": {"X-Carrier-Signature": "t=1795320000,v1=" + "0" * 64},
        "body": {
            "event_id": "evt_carrier_0001",
            "reference": "ord_0123456789abcdef0123456789abcdef",
            "tracking_number": "JD014600006281230704",
            "status": "in_transit",
            "occurred_at": "2026-11-28T12:00:00Z",
            "location": "Leipzig hub",
        },
    },
}


def sample_name(spec: FunctionSpec, route: HandlerRoute) -> str:
    """events/<name>.json of a route: <folder>_<handler>, or <handler> when it starts with the folder name."""
    return route.name if route.name.startswith(spec.folder) else f"{spec.folder}_{route.name}"


def _text(value: Any) -> str:
    return str(value.value if isinstance(value, Enum) else value)


def _examples(params: list[Any], where: str) -> dict[str, str]:
    """The first example of each parameter that has one; a required parameter must have one."""
    found = {}
    for param in params:
        examples = param.field_info.examples
        if examples:
            found[param.alias] = _text(examples[0])
        elif param.required:
            raise SystemExit(f"{where}: the required parameter {param.alias!r} has no examples=[...]")
    return found


def _body(route: HandlerRoute, where: str) -> Any:
    for param in route.route.dependant.body_params:
        models = [t for t in (param.type_, *get_args(param.type_)) if isinstance(t, type) and issubclass(t, BaseModel)]
        # The model's own examples, as written (its JSON schema would sort their keys).
        extra = models[0].model_config.get("json_schema_extra") if models else None
        examples: Any = extra.get("examples") if isinstance(extra, dict) else None
        if examples:
            return examples[0]
        if param.required:
            raise SystemExit(f"{where}: the request model has no examples (json_schema_extra={{'examples': [...]}})")
    return None


def sample_request(spec: FunctionSpec, route: HandlerRoute) -> dict[str, Any]:
    """The request a client would send to this route, from its parameters' and body model's examples."""
    where = f"{spec.logical_id} {route.method} {route.path}"
    dependant = route.route.dependant
    headers = {
        "-".join(part.capitalize() for part in name.split("-")): value
        for name, value in _examples(dependant.header_params, where).items()
    }
    return {
        "path_params": _examples(dependant.path_params, where),
        "query": _examples(dependant.query_params, where),
        "headers": headers,
        "body": _body(route, where),
        **PROVIDER_REQUESTS.get(sample_name(spec, route), {}),
    }


def claims(user_id: str, groups: list[str]) -> dict[str, Any]:
    claim = {
        "sub": user_id,
        "cognito:username": user_id,
        "email": f"{user_id}@example.com",
        "email_verified": "true",
        "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_EXAMPLE",
        "aud": "exampleclientid",
        "token_use": "id",
        "auth_time": "1763780000",
        "iat": "1763780000",
        "exp": "Sat Nov 22 04:13:20 UTC 2025",
    }
    if groups:
        claim["cognito:groups"] = ",".join(groups)
    return claim


def _merchant_claim(resource: str) -> dict[str, str]:
    """A merchant user's ID token carries their shop (the user pool's custom attribute)."""
    return {"custom:merchant_id": "north-loom"} if resource.startswith("/merchant/") else {}


def proxy_event(
    route: Route,
    *,
    path_params: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    body: Any = None,
) -> dict[str, Any]:
    """The event the API would send for this request: built by the local stack's own API Gateway."""
    path = route.resource
    for name, value in (path_params or {}).items():
        path = path.replace("{" + name + "}", value)
    all_headers = {
        "Accept": "application/json",
        "Host": "abcdef1234.execute-api.us-east-1.amazonaws.com",
        "User-Agent": "orders-app/1.0",
        "X-Forwarded-For": "203.0.113.7",
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https",
        **({"Content-Type": "application/json"} if body is not None else {}),
        **({"Authorization": "Bearer eyJraWQiOiJleGFtcGxlIn0.e30.signature"} if route.authorized else {}),
        **(headers or {}),
    }
    event = build_event(
        method=route.method,
        raw_path=path + ("?" + urlencode(query) if query else ""),
        headers=list(all_headers.items()),
        body=json.dumps(body).encode() if body is not None else b"",
        match=Match(route, dict(path_params or {})),
        claims=(claims(USER, []) | _merchant_claim(route.resource)) if route.authorized else None,
        source_ip="203.0.113.7",
        request_id="c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
        now=SAMPLE_TIME,
    )
    # As deployed: the stage is the environment's, and API Gateway names the path with the stage.
    event["requestContext"] |= {"stage": "dev", "path": f"/dev{path}", "apiId": "abcdef1234", "resourceId": "a1b2c3"}
    return event


def samples() -> dict[str, dict[str, Any]]:
    """Every route's sample event, by file name (without .json)."""
    specs = function_specs(load_template())
    deployed = {(r.function, r.method, r.resource): r for r in routes_of(specs.values())}
    events = {}
    for spec in specs.values():
        for route in spec.handler_routes():
            api = deployed.get((spec.logical_id, route.method, route.path))
            if api is None:
                raise SystemExit(f"{spec.logical_id}: {route.method} {route.path} has no Api event in template.yaml")
            name = sample_name(spec, route)
            if name in events:
                raise SystemExit(f"two routes make events/{name}.json")
            events[name] = proxy_event(api, **sample_request(spec, route))
    return events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "events", help="folder to write (default: events/)")
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    events = samples()
    for name, event in sorted(events.items()):
        (out / f"{name}.json").write_text(json.dumps(event, indent=2) + "\n")
        print(f"events/{name}.json  {event['httpMethod']} {event['resource']}")
    for stale in sorted(out.glob("*.json")):
        if stale.stem not in events and "httpMethod" in json.loads(stale.read_text()):
            stale.unlink()  # an API event no route makes any more (a renamed or removed route)
            print(f"removed events/{stale.name}")


if __name__ == "__main__":
    main()
