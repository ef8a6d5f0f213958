"""HTTP boundary shared by every API function: the resolver, the caller, the error mapping.

Handlers build their resolver with :func:`build_resolver` so that every function answers
errors the same way: ``{"code": "UPPER_SNAKE", "message": "...", "details": [...]?}``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import OpenAPIRequestValidationMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.request import Request
from botocore.exceptions import ClientError

from orders import errors
from orders.observability import logger
from orders.roles import Role

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
    from aws_lambda_powertools.event_handler.types import EventHandlerInstance
    from aws_lambda_powertools.utilities.typing import LambdaContext

ROLES: frozenset[Role] = frozenset(Role)
# A merchant user's shop: the user pool's custom attribute, passed as an ID-token claim (docs/merchants.md).
MERCHANT_CLAIM = "custom:merchant_id"
_MERCHANT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
# The platform's own products and orders are ops' work: no merchant account acts as "platform".
_PLATFORM_MERCHANT = "platform"

# AWS error codes that mean "over capacity, retry later" once boto3's own retries are spent.
THROTTLING_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
    }
)

_STATUS_BY_KIND: tuple[tuple[type[errors.DomainError], HTTPStatus], ...] = (
    (errors.BadRequest, HTTPStatus.BAD_REQUEST),
    (errors.InvalidRequest, HTTPStatus.UNPROCESSABLE_ENTITY),
    (errors.Unauthorized, HTTPStatus.UNAUTHORIZED),
    (errors.Forbidden, HTTPStatus.FORBIDDEN),
    (errors.NotFound, HTTPStatus.NOT_FOUND),
    (errors.Conflict, HTTPStatus.CONFLICT),
    (errors.Unavailable, HTTPStatus.SERVICE_UNAVAILABLE),
    (errors.Throttled, HTTPStatus.TOO_MANY_REQUESTS),
)


def error_response(status: HTTPStatus, code: str, message: str, details: list[Any] | None = None) -> Response[Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if details:
        body["details"] = details
    return Response(status_code=status.value, content_type=content_types.APPLICATION_JSON, body=body)


def status_for(exc: errors.DomainError) -> HTTPStatus:
    for kind, status in _STATUS_BY_KIND:
        if isinstance(exc, kind):
            return status
    return HTTPStatus.BAD_REQUEST


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    # Field locations and messages only: never echo the input back (it may hold PII).
    return [{"loc": list(err.get("loc", ())), "type": err.get("type"), "msg": err.get("msg")} for err in exc.errors()]


def load_json(text: str | bytes) -> Any:
    """The one JSON reader of request bodies: anything ``json`` cannot turn into values is InvalidJson.

    Besides syntax errors (JSONDecodeError) that is nesting deeper than the interpreter's recursion
    limit (RecursionError, e.g. ``[`` x 5000) and an integer literal longer than Python's int-str digit
    limit (ValueError): both would otherwise escape as a 502.
    """
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        raise errors.InvalidJson() from exc


# --- roles: checked before any request validation ------------------------------------------------
_REQUIRED_ROLES = "__required_roles__"

_Handler = TypeVar("_Handler", bound=Callable[..., Any])


def requires_role(*roles: Role | str) -> Callable[[_Handler], _Handler]:
    """Route decorator (place it under ``@router.get/post/...``): only callers in one of ``roles``.

    The check runs before Powertools validates the path, query and body, so a caller without the
    role gets 403 and learns nothing about the parameters (no 422 with field locations).
    """
    unknown = {str(role) for role in roles} - set(ROLES)
    if not roles or unknown:
        raise ValueError(f"unknown roles: {sorted(unknown)}")
    members = tuple(sorted(Role(role) for role in roles))

    def mark(func: _Handler) -> _Handler:
        setattr(func, _REQUIRED_ROLES, members)
        return func

    return mark


def required_roles(func: Callable[..., Any]) -> tuple[Role, ...]:
    """The roles a route handler requires (empty: any authenticated caller; the logic decides)."""
    return tuple(getattr(func, _REQUIRED_ROLES, ()))


# --- who else may call a route: declared for the API documents (the logic or the handler checks) ----
_OWNER_OR = "__owner_or__"
_SIGNED_BY = "__signed_by__"


def owner_or(*readers: Role | str) -> Callable[[_Handler], _Handler]:
    """Route decorator: the route acts on one user's own thing (an order, a refund, a ticket); its owner
    may call it, and so may staff in ``readers`` (none: the owner only). Anyone else is told "not found"
    by the logic (:func:`orders.roles.may_read`, which gets the caller's groups). This is a declaration:
    tools/openapi.py lists it as the route's ``x-callers`` (the README's route table), and
    tests/integration/test_callers.py checks it against what the route answers.
    """
    unknown = {str(role) for role in readers} - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles: {sorted(unknown)}")
    members = tuple(sorted(Role(role) for role in readers))

    def mark(func: _Handler) -> _Handler:
        setattr(func, _OWNER_OR, members)
        return func

    return mark


def owner_readers(func: Callable[..., Any]) -> tuple[Role, ...] | None:
    """The staff roles besides the owner that a route declared with :func:`owner_or` (None: not declared)."""
    readers: tuple[Role, ...] | None = getattr(func, _OWNER_OR, None)
    return readers


def signed_by(sender: str) -> Callable[[_Handler], _Handler]:
    """Route decorator for a route without a user token (``Auth: NONE`` in template.yaml): its caller is
    ``sender`` (e.g. "Stripe"), proven by the request's signature, which the handler checks."""

    def mark(func: _Handler) -> _Handler:
        setattr(func, _SIGNED_BY, sender)
        return func

    return mark


def signer(func: Callable[..., Any]) -> str | None:
    """The sender a route declared with :func:`signed_by` (None: not declared)."""
    sender: str | None = getattr(func, _SIGNED_BY, None)
    return sender


class _AuthorizeThenValidate(OpenAPIRequestValidationMiddleware):
    """Powertools' request validation, preceded by the route's role requirement.

    Powertools always runs request validation first in a route's middleware stack (before router
    and route middlewares), so the role check lives in the validation middleware itself.
    """

    def handler(self, app: EventHandlerInstance, next_middleware: NextMiddleware) -> Response[Any]:
        roles = required_roles(app.context["_route"].func)
        if roles:
            caller_from_event(app.current_event.raw_event).require_role(*roles)
        return super().handler(app, next_middleware)


def build_resolver(*routers: Router) -> APIGatewayRestResolver:
    """A REST resolver with request validation and the project's error contract."""
    app = APIGatewayRestResolver(enable_validation=True, json_body_deserializer=load_json)
    # Checked by tests/integration/test_authorization.py: every staff route answers 403 before 422.
    app._request_validation_middleware = _AuthorizeThenValidate()  # type: ignore[no-untyped-call]
    for router in routers:
        app.include_router(router)

    @app.exception_handler(errors.DomainError)
    def _domain(exc: errors.DomainError) -> Response[Any]:
        status = status_for(exc)
        logger.info(
            "request refused",
            extra={"error_code": exc.code, "http_status": status.value, "error_details": _safe(exc.details)},
        )
        details = [exc.details] if exc.details else None
        return error_response(status, exc.code, exc.message, details)

    @app.exception_handler(ClientError)
    def _aws(exc: ClientError) -> Response[Any]:
        if exc.response.get("Error", {}).get("Code") not in THROTTLING_CODES:
            raise exc
        logger.warning("throttled by AWS", extra={"aws_error": exc.response["Error"].get("Code")})
        return Response(
            status_code=HTTPStatus.TOO_MANY_REQUESTS.value,
            content_type=content_types.APPLICATION_JSON,
            body={"code": errors.Throttled.code, "message": errors.Throttled.default_message},
            headers={"Retry-After": str(errors.Throttled.retry_after_seconds)},
        )

    @app.exception_handler(RequestValidationError)
    def _invalid(exc: RequestValidationError) -> Response[Any]:
        details = _validation_details(exc)
        if any(d["type"] == "json_invalid" for d in details):
            return error_response(HTTPStatus.BAD_REQUEST, errors.InvalidJson.code, errors.InvalidJson.default_message)
        return error_response(
            HTTPStatus.UNPROCESSABLE_ENTITY, "VALIDATION_ERROR", "The request does not match the schema.", details
        )

    @app.exception_handler(RequestUnsupportedContentType)
    def _content_type(exc: RequestUnsupportedContentType) -> Response[Any]:
        return error_response(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE", "Send the body as application/json."
        )

    @app.not_found
    def _not_found(exc: NotFoundError) -> Response[Any]:
        return error_response(HTTPStatus.NOT_FOUND, errors.RouteNotFound.code, errors.RouteNotFound.default_message)

    return app


def _safe(details: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in details.items() if isinstance(v, str | int | bool | list)}


# --- the caller ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Caller:
    """The authenticated user, from the Cognito authorizer's claims."""

    user_id: str
    groups: frozenset[str]
    # The ``custom:merchant_id`` claim when it is a merchant id (a slug other than "platform"), else None.
    merchant_id: str | None = None

    def has_role(self, *roles: str) -> bool:
        return not self.groups.isdisjoint(roles)

    def require_role(self, *roles: str) -> None:
        if not self.has_role(*roles):
            raise errors.Forbidden(required_roles=sorted(roles))

    def require_merchant(self) -> str:
        """The caller's merchant: in the ``merchant`` group and linked to a shop (else 403)."""
        self.require_role(Role.MERCHANT)
        if self.merchant_id is None:
            raise errors.MerchantNotLinked()
        return self.merchant_id

    def merchant_scope(self, *unrestricted: str) -> str | None:
        """None when the caller holds one of the ``unrestricted`` roles (e.g. ops); else their merchant,
        so the logic limits what they see and change to that merchant's own (403 when not linked)."""
        if unrestricted and self.has_role(*unrestricted):
            return None
        return self.require_merchant()


def parse_groups(raw: object) -> frozenset[str]:
    """``cognito:groups`` as the REST API's Cognito authorizer passes it: the names joined with ",".

    Each comma-separated item is a group name, taken exactly: no brackets stripped, no other
    separators, so a group named ``[reviewer]`` is not ``reviewer``. A list (a claim read from the
    token itself) is taken item by item. The joined string cannot tell a group named ``x,reviewer``
    from the groups ``x`` and ``reviewer``: :func:`caller_from_event` reads the list from the token.
    """
    if isinstance(raw, list):
        items = [item for item in raw if isinstance(item, str)]
    elif isinstance(raw, str):
        items = [item.strip() for item in raw.split(",")] if raw.strip() else []
    else:
        items = []
    return frozenset(item for item in items if item)


# Claims API Gateway passes unchanged (as strings): iat and exp it rewrites as dates, so they are not compared.
_SAME_TOKEN_CLAIMS = ("jti", "origin_jti", "event_id", "auth_time", "cognito:username", "token_use")


def _token_groups(event: dict[str, Any], claims: dict[str, Any]) -> list[str] | None:
    """``cognito:groups`` as a list, from the token the authorizer verified, when it can be told apart.

    API Gateway verified the (single) Authorization header and passes that token's claims; the
    token's payload is read (not re-verified) only when it is that token: the same ``sub``, the same
    jti/auth_time/... where passed, and groups that join to exactly the passed claim.
    """
    import jwt

    headers = [v for k, v in (event.get("headers") or {}).items() if k.lower() == "authorization"]
    multi = [
        v for k, vs in (event.get("multiValueHeaders") or {}).items() if k.lower() == "authorization" for v in vs or []
    ]
    if len(headers) != 1 or len(multi) > 1 or not isinstance(headers[0], str):
        return None
    token = headers[0].strip()
    if token.lower().startswith("bearer "):
        token = token[7:].strip()
    try:
        payload = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    groups = payload.get("cognito:groups")
    if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
        return None
    same_token = payload.get("sub") == claims.get("sub") and all(
        str(payload.get(name)) == claims[name] for name in _SAME_TOKEN_CLAIMS if isinstance(claims.get(name), str)
    )
    passed = claims.get("cognito:groups")
    same_groups = groups == passed if isinstance(passed, list) else ",".join(groups) == passed
    return groups if same_token and same_groups else None


def caller_from_claims(claims: dict[str, Any], groups: list[str] | None = None) -> Caller:
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub.strip():
        raise errors.Unauthorized()
    raw = groups if groups is not None else claims.get("cognito:groups")
    merchant = claims.get(MERCHANT_CLAIM)
    linked = isinstance(merchant, str) and bool(_MERCHANT_ID.match(merchant)) and merchant != _PLATFORM_MERCHANT
    return Caller(user_id=sub, groups=parse_groups(raw), merchant_id=merchant if linked else None)


def caller_from_event(event: dict[str, Any]) -> Caller:
    """The caller of an API Gateway proxy event (401 when the authorizer passed no user)."""
    context = event.get("requestContext") or {}
    authorizer = context.get("authorizer") or {}
    claims = authorizer.get("claims") or {}
    groups = _token_groups(event, claims) if claims.get("cognito:groups") else None
    return caller_from_claims(claims, groups)


def _current_caller(request: Request) -> Caller:
    return caller_from_event(request.resolved_event.raw_event)


CurrentCaller = Annotated[Caller, Depends(_current_caller)]
"""Route parameter type: the authenticated caller (401 when the claims carry no user)."""


# --- the Lambda entry point ------------------------------------------------------------------
def _body_too_large(event: dict[str, Any]) -> bool:
    from orders.config import get_config

    body = event.get("body")
    return isinstance(body, str) and len(body) > get_config().max_body_bytes


def _not_utf8(event: dict[str, Any]) -> bool:
    import base64
    import binascii

    body = event.get("body")
    if not event.get("isBase64Encoded") or not isinstance(body, str):
        return False
    try:
        base64.b64decode(body, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return True
    return False


def _multipart(event: dict[str, Any]) -> bool:
    headers = event.get("headers") or {}
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type" and isinstance(v, str)), "")
    return content_type.strip().lower().startswith(("multipart/", "application/x-www-form-urlencoded"))


def _refusal(status: HTTPStatus, error: type[errors.DomainError]) -> dict[str, Any]:
    body = {"code": error.code, "message": error.default_message}
    logger.info("request refused", extra={"error_code": error.code, "http_status": status.value})
    return {
        "statusCode": status.value,
        "headers": {"Content-Type": content_types.APPLICATION_JSON},
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


def lambda_entry(app: APIGatewayRestResolver) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """The decorated Lambda handler of an API function: correlation id, metrics, tracing."""
    from aws_lambda_powertools.logging import correlation_paths

    from orders.observability import metrics, tracer

    # clear_state: keys a request appended (order_id, refund_id) must not leak into the next request's logs.
    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
    @tracer.capture_lambda_handler
    @metrics.log_metrics(capture_cold_start_metric=True)
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        if _body_too_large(event):
            metrics.add_metric(name="RequestsTooLarge", unit="Count", value=1)
            return _refusal(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, errors.PayloadTooLarge)
        if _not_utf8(event):
            # JSON is UTF-8 (RFC 8259); Powertools would raise UnicodeDecodeError on it (a 502).
            return _refusal(HTTPStatus.BAD_REQUEST, errors.InvalidJson)
        if _multipart(event):
            # Powertools' validation middleware raises on a multipart type without a boundary (a 502).
            return _refusal(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, errors.UnsupportedMediaType)
        return app.resolve(event, context)

    return lambda_handler
