"""The HTTP boundary: caller from Cognito claims, roles, the status of each error kind."""

from __future__ import annotations

from http import HTTPStatus

import pytest

from orders import errors
from orders.http import caller_from_claims, parse_groups, status_for


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("reviewer", {"reviewer"}),
        ("reviewer,ops", {"reviewer", "ops"}),
        ("reviewer, ops", {"reviewer", "ops"}),
        # The REST API joins names with ","; nothing else separates and brackets are part of a name
        # (the HTTP API's "[a b]" form is not what this API receives).
        ("[reviewer ops]", {"[reviewer ops]"}),
        ("[reviewer]", {"[reviewer]"}),
        ("reviewer ops", {"reviewer ops"}),
        (["support"], {"support"}),
        (["x,reviewer", "[ops]"], {"x,reviewer", "[ops]"}),
        ([1, "ops"], {"ops"}),
        (",,", set()),
        ("", set()),
        (None, set()),
    ],
)
def test_groups_claim_is_read_exactly_as_the_rest_api_passes_it(raw: object, expected: set[str]) -> None:
    assert parse_groups(raw) == expected


def test_caller_needs_a_subject() -> None:
    with pytest.raises(errors.Unauthorized):
        caller_from_claims({"cognito:groups": "ops"})
    with pytest.raises(errors.Unauthorized):
        caller_from_claims({"sub": "  "})


def test_role_check_refuses_with_forbidden() -> None:
    caller = caller_from_claims({"sub": "u1", "cognito:groups": "support"})
    caller.require_role("support", "ops")
    with pytest.raises(errors.Forbidden):
        caller.require_role("reviewer")


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (errors.InvalidJson(), HTTPStatus.BAD_REQUEST),
        (errors.InvalidCursor(), HTTPStatus.BAD_REQUEST),
        (errors.UnknownSku(), HTTPStatus.UNPROCESSABLE_ENTITY),
        (errors.Unauthorized(), HTTPStatus.UNAUTHORIZED),
        (errors.Forbidden(), HTTPStatus.FORBIDDEN),
        (errors.OrderNotFound(), HTTPStatus.NOT_FOUND),
        (errors.InvalidTransition(), HTTPStatus.CONFLICT),
        (errors.IdempotencyKeyReused(), HTTPStatus.CONFLICT),
    ],
)
def test_each_error_kind_has_its_status(error: errors.DomainError, status: HTTPStatus) -> None:
    assert status_for(error) is status


def test_error_codes_are_unique_and_upper_snake() -> None:
    seen: dict[str, str] = {}

    def walk(cls: type[errors.DomainError]) -> None:
        for sub in cls.__subclasses__():
            assert sub.code.isupper() and " " not in sub.code, sub
            assert sub.code not in seen, f"{sub.__name__} reuses {sub.code} of {seen.get(sub.code)}"
            seen[sub.code] = sub.__name__
            walk(sub)

    walk(errors.DomainError)
    assert len(seen) > 10


def test_a_body_over_the_limit_is_413_before_any_parsing() -> None:
    # Given an API function and a body one byte over the configured limit
    import json

    from local_stack.template import function_specs, load_template
    from orders.config import get_config
    from tests.conftest import api_event

    handler = function_specs(load_template())["CreateOrderFunction"].load_handler()
    event = api_event("create_order", raw_body="x" * (get_config().max_body_bytes + 1))

    class Context:
        function_name = "create-order"
        memory_limit_in_mb = 512
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:create-order"
        aws_request_id = "req-1"

    # When / Then
    response = handler(event, Context())
    assert response["statusCode"] == 413
    assert json.loads(response["body"])["code"] == "PAYLOAD_TOO_LARGE"


def test_a_body_that_is_not_utf8_is_400_and_a_multipart_body_is_415() -> None:
    import base64
    import json

    from local_stack.template import function_specs, load_template
    from tests.conftest import api_event

    handler = function_specs(load_template())["CreateOrderFunction"].load_handler()

    class Context:
        function_name = "create-order"
        memory_limit_in_mb = 512
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:create-order"
        aws_request_id = "req-1"

    binary = api_event("create_order", raw_body=base64.b64encode(b"\x14\xff\r").decode())
    binary["isBase64Encoded"] = True
    response = handler(binary, Context())
    assert (response["statusCode"], json.loads(response["body"])["code"]) == (400, "INVALID_JSON")
    form = api_event("create_order", headers={"Content-Type": "multipart/form-data"})
    response = handler(form, Context())
    assert (response["statusCode"], json.loads(response["body"])["code"]) == (415, "UNSUPPORTED_MEDIA_TYPE")


GROUPS = "cognito:groups"


def _event(claim: str, authorization: list[str] | None, **claims: str) -> dict[str, object]:
    headers = {"Authorization": authorization[-1]} if authorization else {}
    return {
        "headers": headers,
        "multiValueHeaders": {"Authorization": authorization} if authorization else None,
        "requestContext": {"authorizer": {"claims": {"sub": "u1", "cognito:groups": claim, **claims}}},
    }


def _bearer(**payload: object) -> str:
    import jwt

    return "Bearer " + jwt.encode(payload, "k" * 32, algorithm="HS256")


@pytest.mark.parametrize(
    ("claim", "authorization", "claims", "expected"),
    [
        # the verified token: its list, exactly
        ("x,reviewer", [_bearer(sub="u1", jti="j1", **{GROUPS: ["x,reviewer"]})], {"jti": "j1"}, {"x,reviewer"}),
        ("a,b", [_bearer(sub="u1", **{"cognito:groups": ["a", "b"]})], {}, {"a", "b"}),
        # not the verified token (another jti, another user, groups that do not join to the claim): the claim
        ("x,reviewer", [_bearer(sub="u1", jti="j2", **{GROUPS: ["x,reviewer"]})], {"jti": "j1"}, {"x", "reviewer"}),
        ("x,reviewer", [_bearer(sub="u2", **{"cognito:groups": ["x,reviewer"]})], {}, {"x", "reviewer"}),
        ("ops", [_bearer(sub="u1", **{"cognito:groups": ["ops", "reviewer"]})], {}, {"ops"}),
        # two Authorization values, a token that is not a JWT, groups that are not a list of names
        ("x,reviewer", [_bearer(sub="u1", **{"cognito:groups": ["x,reviewer"]})] * 2, {}, {"x", "reviewer"}),
        ("x,reviewer", ["Bearer not-a-jwt"], {}, {"x", "reviewer"}),
        ("x,reviewer", [_bearer(sub="u1", **{"cognito:groups": "x,reviewer"})], {}, {"x", "reviewer"}),
        ("x,reviewer", None, {}, {"x", "reviewer"}),
    ],
)
def test_groups_come_from_the_verified_token_when_it_is_there(
    claim: str, authorization: list[str] | None, claims: dict[str, str], expected: set[str]
) -> None:
    from orders.http import caller_from_event

    assert caller_from_event(_event(claim, authorization, **claims)).groups == expected
