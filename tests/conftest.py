"""Shared fixtures: fake AWS credentials, events/ loading, a fake Lambda context."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"

# Before any handler or boto3 client is imported: never reach a real account.
FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "1",
    "POWERTOOLS_METRICS_NAMESPACE": "OrderManagement",
    "POWERTOOLS_SERVICE_NAME": "tests",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}
os.environ.update(FAKE_AWS_ENV)


@cache
def _event_file(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / f"{name}.json").read_text())  # type: ignore[no-any-return]


@cache
def api_samples() -> dict[tuple[str, str], str]:
    """The sample event of every API route, by (method, resource): events/, built by `make events`."""
    samples = {}
    for path in sorted(EVENTS.glob("*.json")):
        event = _event_file(path.stem)
        if "httpMethod" in event:
            samples[(event["httpMethod"], event["resource"])] = path.stem
    return samples


def load_event(name: str) -> dict[str, Any]:
    """A fresh copy of events/<name>.json."""
    return copy.deepcopy(_event_file(name))


def api_event(
    name: str,
    *,
    user: str | None = "user-0001",
    groups: tuple[str, ...] = (),
    body: Any = ...,
    raw_body: str | None = None,
    path_params: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """events/<name>.json as another caller, body, path or query would make it."""
    event = load_event(name)
    claims = event.get("requestContext", {}).get("authorizer", {}).get("claims")
    if claims is not None:
        if user is None:
            del event["requestContext"]["authorizer"]
        else:
            claims.update({"sub": user, "cognito:username": user})
            if groups:
                claims["cognito:groups"] = ",".join(groups)
    if body is not ...:
        event["body"] = json.dumps(body)
    if raw_body is not None:
        event["body"] = raw_body
    if path_params is not None:
        path = event["resource"]
        for key, value in path_params.items():
            path = path.replace("{" + key + "}", value)
        event["path"] = path
        event["pathParameters"] = path_params
    if query is not None:
        event["queryStringParameters"] = query or None
        event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} or None
    for key, value in (headers or {}).items():
        event["headers"][key] = value
        event["multiValueHeaders"][key] = [value]
    return event


@pytest.fixture(autouse=True)
def settings_from_the_process_environment() -> Iterator[None]:
    """Each test starts reading settings from os.environ (a LambdaRuntime may have switched them)."""
    from orders import cache, config

    config.use_environment(config.process_environment)
    cache.reset()
    yield
    config.use_environment(config.process_environment)


@pytest.fixture
def make_event() -> Callable[..., dict[str, Any]]:
    return api_event
