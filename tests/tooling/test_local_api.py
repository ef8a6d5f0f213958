"""The local API Gateway: routing, the proxy event, the response mapping, and what never reaches a handler."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

import jwt
import pytest

from local_stack.apigw import MAX_BODY_BYTES, ApiGateway, HttpResponse, Match, Router, build_event, routes_of
from local_stack.auth import ISSUER, LOCAL_JWT_SECRET, issue_token
from local_stack.template import ROOT, function_specs, load_template

SPECS = function_specs(load_template())


class RecordingInvoker:
    def __init__(self, response: Any = None) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.response = response or {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": "{}"}

    def invoke(self, logical_id: str, event: Any) -> Any:
        self.calls.append((logical_id, event))
        return self.response


@pytest.fixture
def invoker() -> RecordingInvoker:
    return RecordingInvoker()


@pytest.fixture
def gateway(invoker: RecordingInvoker) -> Iterator[ApiGateway]:
    api = ApiGateway(invoker, SPECS.values(), port=0)
    yield api
    api.server.server_close()


def request(
    api: ApiGateway, method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b""
) -> HttpResponse:
    all_headers = list((headers or {}).items())
    if body:
        all_headers.append(("Content-Length", str(len(body))))
    response, _ = api.handle(method, path, all_headers, lambda n: body[:n], "127.0.0.1")
    return response


def bearer(**claims: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {jwt.encode(claims, LOCAL_JWT_SECRET, algorithm='HS256')}"}


# --- routing ---------------------------------------------------------------------------------
def test_every_api_event_of_the_template_is_a_route() -> None:
    # Given the template's Api events
    expected = {(r.method, r.path) for spec in SPECS.values() for r in spec.routes}
    # Then each is a route of the local API, on its function
    routes = routes_of(SPECS.values())
    assert {(r.method, r.resource) for r in routes} == expected
    assert {r.function for r in routes if (r.method, r.resource) == ("GET", "/products")} == {"CatalogFunction"}


def test_literal_segments_win_over_parameters() -> None:
    # Given /orders/{order_id} and /orders/{order_id}/events, and a greedy route
    router = Router(routes_of(SPECS.values()))
    # Then each path finds its own resource, with decoded path parameters
    found = router.match("GET", "/orders/ord%201/events")
    assert isinstance(found, Match)
    assert (found.route.resource, found.path_parameters) == ("/orders/{order_id}/events", {"order_id": "ord 1"})
    assert router.match("DELETE", "/orders/o1") is HTTPStatus.METHOD_NOT_ALLOWED
    assert router.match("GET", "/orders/o1/nothing") is HTTPStatus.NOT_FOUND


# --- the proxy event -------------------------------------------------------------------------
def test_event_has_the_rest_proxy_shape() -> None:
    # Given a request with repeated headers and query parameters
    router = Router(routes_of(SPECS.values()))
    found = router.match("GET", "/orders/o1")
    assert isinstance(found, Match)
    # When it becomes an event
    event = build_event(
        method="GET",
        raw_path="/orders/o1?tag=a&tag=b&flag",
        headers=[("Accept", "text/plain"), ("Accept", "application/json"), ("User-Agent", "t/1")],
        body=b"",
        match=found,
        claims={"sub": "u1", "cognito:groups": "ops,reviewer"},
        source_ip="127.0.0.1",
        request_id="r1",
    )
    # Then it is what API Gateway sends a Lambda proxy integration
    assert event["resource"] == "/orders/{order_id}"
    assert event["path"] == "/orders/o1"
    assert event["pathParameters"] == {"order_id": "o1"}
    assert event["headers"]["Accept"] == "application/json"
    assert event["multiValueHeaders"]["Accept"] == ["text/plain", "application/json"]
    assert event["queryStringParameters"] == {"tag": "b", "flag": ""}
    assert event["multiValueQueryStringParameters"] == {"tag": ["a", "b"], "flag": [""]}
    context = event["requestContext"]
    assert (context["resourcePath"], context["httpMethod"], context["stage"]) == ("/orders/{order_id}", "GET", "local")
    assert (context["requestId"], context["identity"]["sourceIp"]) == ("r1", "127.0.0.1")
    assert context["authorizer"]["claims"] == {"sub": "u1", "cognito:groups": "ops,reviewer"}
    assert isinstance(context["requestTimeEpoch"], int)
    assert event["body"] is None
    assert event["isBase64Encoded"] is False
    # And it has every key of the events/ sample
    sample = json.loads((ROOT / "events" / "orders_get_order.json").read_text())
    assert set(sample) <= set(event)
    assert set(sample["requestContext"]) <= set(context)


def test_binary_body_is_base64_and_text_is_not(gateway: ApiGateway, invoker: RecordingInvoker) -> None:
    # Given a binary body and a JSON body
    token = {"Authorization": issue_token("u1")}
    request(gateway, "POST", "/orders", {**token, "Content-Type": "application/octet-stream"}, b"\x00\xff")
    request(gateway, "POST", "/orders", {**token, "Content-Type": "application/json"}, b'{"a": "\xc3\xa9"}')
    # Then the handler gets base64 for the first, text for the second
    (_, binary), (_, text) = invoker.calls
    assert (binary["body"], binary["isBase64Encoded"]) == (base64.b64encode(b"\x00\xff").decode(), True)
    assert (text["body"], text["isBase64Encoded"]) == ('{"a": "é"}', False)


def test_response_is_mapped_back(invoker: RecordingInvoker, gateway: ApiGateway) -> None:
    # Given a handler answering with multi-value headers and a base64 body
    invoker.response = {
        "statusCode": 201,
        "headers": {"Content-Type": "image/png", "X-One": "1"},
        "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
        "body": base64.b64encode(b"\x89PNG").decode(),
        "isBase64Encoded": True,
    }
    # When it is called
    response = request(gateway, "GET", "/products")
    # Then status, every header value and the decoded body come back
    assert response.status == 201
    assert [v for k, v in response.headers if k == "Set-Cookie"] == ["a=1", "b=2"]
    assert ("Content-Type", "image/png") in response.headers
    assert response.body == b"\x89PNG"


def test_a_failing_handler_is_a_502_in_the_error_shape(invoker: RecordingInvoker, gateway: ApiGateway) -> None:
    # Given a handler answering something that is not a proxy response
    invoker.response = {"hello": "world"}
    # Then API Gateway's 5xx in the project's error shape
    response = request(gateway, "GET", "/products")
    assert response.status == 502
    assert json.loads(response.body)["code"] == "INTERNAL_ERROR"


# --- what never reaches a handler ------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/nope", 404, "ROUTE_NOT_FOUND"),
        ("GET", "/orders/o1/nothing", 404, "ROUTE_NOT_FOUND"),
        ("DELETE", "/products", 405, "METHOD_NOT_ALLOWED"),
        ("PUT", "/orders/o1", 405, "METHOD_NOT_ALLOWED"),
    ],
)
def test_unknown_route_and_wrong_method(
    gateway: ApiGateway, invoker: RecordingInvoker, method: str, path: str, status: int, code: str
) -> None:
    # When an unknown path or method is asked for
    response = request(gateway, method, path, {"Authorization": issue_token("u1")})
    # Then API Gateway answers itself
    assert (response.status, json.loads(response.body)["code"]) == (status, code)
    assert invoker.calls == []


def test_body_over_ten_megabytes_is_413_unread(gateway: ApiGateway, invoker: RecordingInvoker) -> None:
    # Given a request announcing a body just over the limit
    headers = [("Authorization", issue_token("u1")), ("Content-Length", str(MAX_BODY_BYTES + 1))]

    def read(n: int) -> bytes:
        raise AssertionError("the body must not be read")

    # When it arrives
    response, _ = gateway.handle("POST", "/orders", headers, read, "127.0.0.1")
    # Then 413, and no handler ran
    assert (response.status, json.loads(response.body)["code"]) == (413, "PAYLOAD_TOO_LARGE")
    assert invoker.calls == []


NOW = int(time.time())


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="missing"),
        pytest.param({"Authorization": "Bearer not-a-jwt"}, id="garbage"),
        pytest.param(bearer(sub="u1", iss=ISSUER, iat=NOW - 7200, exp=NOW - 3600), id="expired"),
        pytest.param(
            {
                "Authorization": "Bearer "
                + jwt.encode({"sub": "u1", "iss": ISSUER, "iat": NOW, "exp": NOW + 60}, "", algorithm="none")
            },
            id="unsigned",
        ),
        pytest.param(
            {
                "Authorization": "Bearer "
                + jwt.encode({"sub": "u1", "iss": ISSUER, "iat": NOW, "exp": NOW + 60}, "x" * 40, algorithm="HS256")
            },
            id="wrong-key",
        ),
        pytest.param(bearer(sub="u1", iss=ISSUER, iat=NOW), id="no-exp"),
    ],
)
def test_bad_tokens_are_401(gateway: ApiGateway, invoker: RecordingInvoker, headers: dict[str, str]) -> None:
    # When a protected route is called with a bad token
    response = request(gateway, "GET", "/orders", headers)
    # Then 401 in the API's error shape, and no handler ran
    assert (response.status, json.loads(response.body)["code"]) == (401, "UNAUTHORIZED")
    assert invoker.calls == []


def test_valid_token_passes_sub_and_groups_as_claims(gateway: ApiGateway, invoker: RecordingInvoker) -> None:
    # Given a dev token with two groups
    token = issue_token("user-7", ["reviewer", "ops"])
    # When a protected route is called, with or without the Bearer prefix
    request(gateway, "GET", "/orders", {"Authorization": f"Bearer {token}"})
    request(gateway, "GET", "/orders", {"Authorization": token})
    # Then the handler sees the Cognito-style claims, all strings, groups comma-joined
    for function, event in invoker.calls:
        claims = event["requestContext"]["authorizer"]["claims"]
        assert function == "OrdersFunction"
        assert (claims["sub"], claims["cognito:groups"]) == ("user-7", "reviewer,ops")
        assert all(isinstance(value, str) for value in claims.values())


def test_claims_are_passed_as_api_gateway_passes_them_and_groups_read_back_exactly(
    gateway: ApiGateway, invoker: RecordingInvoker
) -> None:
    from orders.http import caller_from_event

    # Given a dev token whose groups include names with a comma and brackets
    token = issue_token("user-8", ["x,reviewer", "[ops]", "support"])
    # When a protected route is called
    request(gateway, "GET", "/orders", {"Authorization": f"Bearer {token}"})
    ((_, event),) = invoker.calls
    claims = event["requestContext"]["authorizer"]["claims"]
    # Then iat and exp are dates as API Gateway writes them, auth_time stays digits
    for name in ("iat", "exp"):
        time.strptime(claims[name], "%a %b %d %H:%M:%S UTC %Y")
    assert claims["auth_time"].isdigit()
    assert claims["cognito:groups"] == "x,reviewer,[ops],support"
    # And the handler's caller has exactly the token's groups: neither reviewer nor ops
    assert caller_from_event(event).groups == {"x,reviewer", "[ops]", "support"}


def test_public_routes_need_no_token(gateway: ApiGateway, invoker: RecordingInvoker) -> None:
    # When a route with Auth: Authorizer: NONE is called without a token
    response = request(gateway, "GET", "/products/coins-500")
    # Then it reaches the handler, with no authorizer claims
    assert response.status == 200
    assert "authorizer" not in invoker.calls[0][1]["requestContext"]
