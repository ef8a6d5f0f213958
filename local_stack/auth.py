"""Dev JWTs and the local stand-in for the Cognito user pool authorizer.

LOCAL ONLY: tokens are HS256-signed with a fixed, published secret so that the token
command works without a running stack. Nothing deployed trusts these tokens: on AWS the
Cognito authorizer verifies the user pool's own RS256 signatures.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from typing import Any

import jwt

# LOCAL ONLY, NOT A SECRET: published in docs/local-stack.md; never configure anything deployed with it.
LOCAL_JWT_SECRET = "local-only-not-a-secret-dev-jwt-signing-key-0001"  # noqa: S105 - local only, published
ALGORITHM = "HS256"
ISSUER = "local-stack"
DEFAULT_TTL_SECONDS = 3600


class InvalidToken(Exception):
    """Missing, unsigned, wrongly signed, malformed or expired token."""


def issue_token(
    user_id: str, groups: Iterable[str] = (), ttl_seconds: int = DEFAULT_TTL_SECONDS, merchant_id: str | None = None
) -> str:
    """A dev ID token for ``user_id`` shaped like Cognito's (sub, cognito:groups, token_use, and a merchant
    user's ``custom:merchant_id``, the user pool's custom attribute)."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": user_id,
        "cognito:username": user_id,
        "email": f"{user_id}@example.com",
        "email_verified": True,
        "iss": ISSUER,
        "aud": "local-app",
        "token_use": "id",
        "auth_time": now,
        "iat": now,
        "exp": now + ttl_seconds,
        "jti": str(uuid.uuid4()),
    }
    group_list = [group for group in groups if group]
    if group_list:
        claims["cognito:groups"] = group_list
    if merchant_id:
        claims["custom:merchant_id"] = merchant_id
    return jwt.encode(claims, LOCAL_JWT_SECRET, algorithm=ALGORITHM)


def verify_token(authorization: str | None) -> dict[str, str]:
    """Verify an Authorization header value; return the claims as API Gateway passes them.

    API Gateway hands the Lambda every claim as a string, and ``cognito:groups`` comma-joined.
    """
    if not authorization:
        raise InvalidToken("missing token")
    token = authorization.strip()
    if token.lower().startswith("bearer "):
        token = token[7:].strip()
    try:
        claims = jwt.decode(
            token,
            LOCAL_JWT_SECRET,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "sub", "iat"], "verify_aud": False},
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from exc
    return claims_as_api_gateway_passes(claims)


def claims_as_api_gateway_passes(claims: dict[str, Any]) -> dict[str, str]:
    """A verified token's claims as the REST API's Cognito authorizer hands them to the Lambda.

    Every value is a string: ``cognito:groups`` the names joined with "," (no brackets), booleans
    "true"/"false", ``iat`` and ``exp`` rewritten as dates ("Tue Apr 04 18:39:39 UTC 2023"), other
    numbers (``auth_time``) as their digits.
    """
    passed: dict[str, str] = {}
    for key, value in claims.items():
        if key == "cognito:groups" and isinstance(value, list):
            passed[key] = ",".join(str(group) for group in value)
        elif key in ("iat", "exp") and isinstance(value, int | float):
            passed[key] = time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime(value))
        elif isinstance(value, bool):
            passed[key] = "true" if value else "false"
        else:
            passed[key] = str(value)
    return passed
