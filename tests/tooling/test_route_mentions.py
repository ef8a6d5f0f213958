"""A route's path is written by hand in two places only: its handler and its template event
(test_template.py checks that they agree). Everything else that names a route (the docs, the staff console, the
demo, the bench, the smoke test, the end-to-end tests) names one of the routes of docs/openapi.json: renaming or
removing a route without them fails here, not in a browser or a live deployment."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from local_stack.template import ROOT

DOCUMENT = json.loads((ROOT / "docs" / "openapi.json").read_text())
ROUTES = {(method.upper(), path) for path, operations in DOCUMENT["paths"].items() for method in operations}
# A path literal without a method is a route mention when it starts with one of the API's first segments.
SEGMENTS = sorted({path.split("/")[1] for _, path in ROUTES})
METHOD = r"(GET|POST|PUT|PATCH|DELETE)"
API = rf"/(?:{'|'.join(SEGMENTS)})(?![\w-])"
# Served by the local stack itself and its fake providers (docs/local-stack.md), not by the API.
NOT_API = ("/_local/", "/v1/", "/token", "/console/", "/moto-api/")

DOCS = sorted([*ROOT.glob("docs/*.md"), ROOT / "README.md", ROOT / "BENCHMARKS.md", ROOT / "bench" / "NOTES.md"])
CLIENTS = sorted(
    [
        *ROOT.glob("console/*.js"),
        *ROOT.glob("console/lib/*.js"),
        *ROOT.glob("bench/*.py"),
        *ROOT.glob("local_stack/*.py"),
        ROOT / "tools" / "smoke.py",
        *ROOT.glob("tests/e2e/*.py"),
    ]
)


def _pattern(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(path)) + "$")


PATTERNS = [(method, _pattern(path)) for method, path in ROUTES]


def is_route(method: str | None, mention: str) -> bool:
    """Whether ``mention`` (a path with ``{...}`` or ``${...}`` placeholders, maybe a query) is a route's path."""
    path = re.sub(r"\$?\{[^}]*\}", "x", mention).split("?")[0]
    path = re.sub(r"[.,;:)`<]+.*$", "", path)  # prose and markup after the path
    return any(method in (None, m) and pattern.match(path) for m, pattern in PATTERNS)


def doc_mentions(text: str) -> list[tuple[str, str]]:
    """``METHOD /path`` in prose and tables."""
    found: list[tuple[str, str]] = []
    for m in re.finditer(rf"\b{METHOD} (/[^\s\"'`]*)", text):
        if m.group(2).startswith(NOT_API):
            continue
        head, _, last = m.group(2).rpartition("/")
        # "POST /webhooks/stripe|apple|google" and "POST /webhooks/{stripe,apple,google}" name three routes
        names = last.strip("{}").split(",") if re.fullmatch(r"\{[\w-]+(,[\w-]+)+\}", last) else last.split("|")
        several = len(names) > 1 and "?" not in last
        found += [(m.group(1), f"{head}/{name}") for name in names] if several else [(m.group(1), m.group(2))]
    return found


def code_mentions(text: str) -> list[tuple[str | None, str]]:
    """Path literals in Python and JavaScript, with the method where the call names it:
    ``call("POST", f"/orders/{order_id}")``, ``post(`/orders/${seg(id)}`)`` or a ``GET /orders`` docstring."""
    found: list[tuple[str | None, str]] = []
    # The literal ends at its own closing quote: f"/orders/{order['order_id']}/cancel" is one literal.
    rest = r"(?:(?!(?P=quote))\S)*"
    literal = rf"f?(?P<quote>[\"'`])(?P<path>/{rest})(?P=quote)"
    for m in re.finditer(rf"(?:[\"']{METHOD}[\"'],\s*|\b(get|post|put|patch|del)\(\s*)?{literal}", text):
        method = m.group(1) or (m.group(2) or "").upper().replace("DEL", "DELETE") or None
        path = m.group("path")
        # Any path a call names with its method; without one, only paths under the API's segments.
        if not path.startswith(NOT_API) and (method or re.match(rf"{API}(?:[/?]|$)", path)):
            found.append((method, path))
    found += doc_mentions(text)
    return found


@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_route_the_docs_name_is_a_route_of_the_api(path: Path) -> None:
    stale = [f"{m} {p}" for m, p in doc_mentions(path.read_text()) if not is_route(m, p)]
    assert not stale, f"{path.relative_to(ROOT)} names routes the API does not have: {stale}"


@pytest.mark.parametrize("path", CLIENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_route_a_client_calls_is_a_route_of_the_api(path: Path) -> None:
    stale = [f"{m or '*'} {p}" for m, p in code_mentions(path.read_text()) if not is_route(m, p)]
    assert not stale, f"{path.relative_to(ROOT)} calls routes the API does not have: {stale}"


def test_the_clients_are_read_and_a_renamed_route_is_caught() -> None:
    # Given the clients' mentions: the console, the demo and the bench each name many routes
    counts = {p.name: len(code_mentions(p.read_text())) for p in CLIENTS}
    assert counts["app.js"] >= 15 and counts["demo.py"] >= 40 and counts["lifecycle.py"] >= 5, counts
    # Then a path or method the API does not have is not a route, and placeholders of either language are
    assert is_route("GET", "/orders/${seg(orderId)}/events") and is_route(None, "/orders/{order_id}?x=1")
    assert not is_route("GET", "/orders/{order_id}/receipt")
    assert not is_route("DELETE", "/orders/{order_id}")
    # And a path named with its method is a mention even outside the API's segments (a renamed route); a bare
    # path literal outside them, or a local-stack route, is not
    assert code_mentions('demo.call("GET", f"/order/{oid}")') == [("GET", "/order/{oid}")]
    assert doc_mentions("then `GET /category` lists them") == [("GET", "/category")]
    assert code_mentions('Path("/tmp/x"), call("GET", "/_local/events")') == []
    assert doc_mentions("``POST /webhooks/{stripe,apple,google}``") == [
        ("POST", "/webhooks/stripe"),
        ("POST", "/webhooks/apple"),
        ("POST", "/webhooks/google"),
    ]
    assert code_mentions("post(`/orders/${seg(id)}/cancel`)") == [("POST", "/orders/${seg(id)}/cancel")]
