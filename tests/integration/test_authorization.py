"""Authorization before validation (issue 12, item 6): a caller without a staff route's role gets 403
and learns nothing about the parameters; group claims are read exactly."""

from __future__ import annotations

import json
import re
from typing import Any

import jwt
import pytest

from local_stack.template import ROOT
from tests.conftest import api_event, api_samples, load_event
from tests.integration.conftest import Api

ROLES = ("reviewer", "support", "ops", "analyst", "merchant")
OPENAPI = json.loads((ROOT / "docs" / "openapi.json").read_text())


def _documented_staff_routes() -> dict[tuple[str, str], tuple[str, ...]]:
    """Routes whose documented summary names roles and no owner, e.g. "Create a product (ops)" or
    "Ship a physical order (ops; merchant: own orders)"."""
    staff: dict[tuple[str, str], tuple[str, ...]] = {}
    for path, operations in OPENAPI["paths"].items():
        for method, operation in operations.items():
            who = re.search(r"\(([^)]*)\)\s*$", operation.get("summary", ""))
            roles = tuple(sorted(r for r in ROLES if who and re.search(rf"\b{r}s?\b", who.group(1))))
            if who and roles and "owner" not in who.group(1):
                staff[(method.upper(), path)] = roles
    return staff


STAFF = _documented_staff_routes()


def _handler_roles(api: Api, method: str, resource: str) -> tuple[str, ...]:
    """The roles the deployed function's resolver requires for this route."""
    from orders.http import required_roles

    module = api.runtime.specs[api._function_of[(method, resource)]].load_module()
    path = re.sub(r"\{(\w+)\}", r"<\1>", resource)
    routes = module.app._static_routes + module.app._dynamic_routes
    (route,) = [r for r in routes if r.path == path and r.method == method]
    return required_roles(route.func)


def test_every_documented_staff_route_requires_its_role_in_the_resolver(api: Api) -> None:
    # Given the staff routes the API documents, and every route the template serves
    routes = {(r.method, r.path) for spec in api.runtime.specs.values() for r in spec.routes}
    assert set(STAFF) <= routes and len(STAFF) >= 9
    # Then exactly those routes carry a role requirement, the documented ones
    for method, resource in sorted(routes):
        expected = STAFF.get((method, resource), ())
        assert _handler_roles(api, method, resource) == expected, (method, resource)


def _bad_request(method: str, resource: str, user: str, groups: tuple[str, ...]) -> dict[str, Any]:
    """The route's sample event, with every query parameter and the body made invalid."""
    name = api_samples()[(method, resource)]
    sample = load_event(name)
    query = dict.fromkeys(sample["queryStringParameters"] or {"from": "", "to": ""}, "not-valid-" + "x" * 3000)
    path_params = dict.fromkeys(sample["pathParameters"] or {}, "p" * 200)
    body = '{"unexpected": [1, 2, 3], "price": -1}' if method in ("POST", "PUT", "PATCH") else None
    return api_event(name, user=user, groups=groups, query=query, path_params=path_params, raw_body=body)


@pytest.mark.parametrize(("method", "resource"), sorted(STAFF), ids=[f"{m} {p}" for m, p in sorted(STAFF)])
def test_a_plain_user_gets_403_before_any_validation_on_every_staff_route(api: Api, method: str, resource: str) -> None:
    # Given a signed-in user without the route's roles (in every other staff group)
    others = tuple(r for r in ROLES if r not in STAFF[(method, resource)])
    for groups in ((), others):
        # When they call it with invalid path, query and body
        result = api(_bad_request(method, resource, "plain-user", groups))
        # Then the answer is 403, with nothing about the parameters
        assert (result.status, result.body["code"]) == (403, "FORBIDDEN"), result.body
        assert "details" not in result.body or "loc" not in json.dumps(result.body["details"])
    # And the same request from a caller with a role is validated (422 with field locations)
    sample = load_event(api_samples()[(method, resource)])
    nothing_to_validate = method == "GET" and not sample["queryStringParameters"] and not sample["pathParameters"]
    for role in STAFF[(method, resource)]:
        staff = api(_bad_request(method, resource, "staff-user", (role,)))
        if nothing_to_validate:  # e.g. GET /merchant/profile: past the role check, the answer is the route's own
            assert staff.status != 403, staff.body
        else:
            assert staff.status in (400, 422), staff.body


def test_the_merchant_and_listing_routes_are_in_the_table() -> None:
    # The merchant's own routes, the reviewers' listing routes, and shipping shared by ops and merchants
    assert {key: roles for key, roles in STAFF.items() if "merchant" in key[1] or "listing" in key[1]} == {
        ("GET", "/merchant/profile"): ("merchant",),
        ("PUT", "/merchant/profile"): ("merchant",),
        ("GET", "/merchant/orders"): ("merchant",),
        ("POST", "/merchant/products"): ("merchant",),
        ("PATCH", "/merchant/products/{sku}"): ("merchant",),
        ("GET", "/merchant/listings"): ("merchant",),
        ("GET", "/listings"): ("reviewer",),
        ("POST", "/listings/{listing_id}/decision"): ("reviewer",),
    }
    assert STAFF[("POST", "/orders/{order_id}/shipments")] == ("merchant", "ops")
    assert STAFF[("POST", "/orders/{order_id}/delivery")] == ("ops",)


def test_the_reported_examples(api: Api) -> None:
    # GET /reports/summary without parameters, POST /products with a bad body, as a plain user
    summary = api_event("reports_summary", query={})
    product = api_event("catalog_admin_create_product", raw_body='{"sku": 1}')
    assert [(r.status, r.body["code"]) for r in (api(summary), api(product))] == [(403, "FORBIDDEN")] * 2


# --- group claims ------------------------------------------------------------------------------------
def _token(sub: str, groups: list[str]) -> str:
    # API Gateway verified this token; the handler reads its payload only (the key is irrelevant to it).
    # auth_time and cognito:username as in the sample events' claims (API Gateway passes them unchanged).
    claims = {"sub": sub, "cognito:username": sub, "token_use": "id", "auth_time": 1763780000, "cognito:groups": groups}
    return jwt.encode(claims, "k" * 32, algorithm="HS256")


def _summary_as(api: Api, sub: str, claim: str, authorization: str | None) -> int:
    event = api_event("reports_summary", user=sub)
    event["requestContext"]["authorizer"]["claims"]["cognito:groups"] = claim
    for place in ("headers", "multiValueHeaders"):
        event[place].pop("Authorization", None)
    if authorization is not None:
        event["headers"]["Authorization"] = authorization
        event["multiValueHeaders"]["Authorization"] = [authorization]
    return api(event).status


@pytest.mark.parametrize(
    ("groups", "granted"),
    [
        (["analyst"], True),
        (["x", "analyst"], True),
        (["analyst", "ops"], True),
        (["x,analyst"], False),
        (["[analyst]"], False),
        (["[analyst", "x]"], False),
        (["analyst]"], False),
        ([" analyst"], False),
        (["Analyst"], False),
        (["analysts"], False),
    ],
)
def test_group_names_are_matched_exactly(api: Api, groups: list[str], granted: bool) -> None:
    # Given a token with these groups, passed by API Gateway as the comma-joined claim
    claim = ",".join(groups)
    status = _summary_as(api, "u-1", claim, "Bearer " + _token("u-1", groups))
    # Then the analyst route is open only to a group named exactly "analyst"
    assert (status == 200) is granted, status


def test_the_comma_joined_claim_alone_is_split_on_commas_only(api: Api) -> None:
    # Given hand-made events without a token (as in events/): the claim is the only source
    assert _summary_as(api, "u-1", "x,analyst", None) == 200
    assert _summary_as(api, "u-1", "[analyst]", None) == 403
    assert _summary_as(api, "u-1", "[x analyst]", None) == 403
    assert _summary_as(api, "u-1", "x analyst", None) == 403


def test_a_token_that_is_not_the_verified_one_is_not_read(api: Api) -> None:
    # Given a user in the group "x,analyst"; a second token re-splitting it must not be believed
    forged = _token("u-1", ["x", "analyst"])
    # Another user's token, or one whose groups do not join to the claim: the claim is split as passed
    assert _summary_as(api, "u-1", "x,analyst", "Bearer " + _token("u-2", ["x", "analyst"])) == 200
    assert _summary_as(api, "u-1", "x,analyst", "Bearer " + _token("u-1", ["x,analyst", "ops"])) == 200
    # Two Authorization headers: which one API Gateway verified is unknown, so neither is read
    event = api_event("reports_summary", user="u-1")
    event["requestContext"]["authorizer"]["claims"]["cognito:groups"] = "x,analyst"
    event["headers"]["Authorization"] = "Bearer " + forged
    event["multiValueHeaders"]["Authorization"] = ["Bearer " + _token("u-1", ["x,analyst"]), "Bearer " + forged]
    assert api(event).status == 200
    # The verified token (same sub, groups joining to the claim) is read exactly
    assert _summary_as(api, "u-1", "x,analyst", "Bearer " + _token("u-1", ["x,analyst"])) == 403
