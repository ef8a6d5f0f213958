"""Categories and search over the local stack's HTTP API, as a shop front and ops would use them (issue 17)."""

from __future__ import annotations

import string
import uuid
from typing import Any

import requests

from local_stack.auth import issue_token
from tests.e2e.conftest import RunningStack

OPS = {"Authorization": f"Bearer {issue_token('e2e-ops', ('ops',))}"}


def word() -> str:
    """A fresh word only this test run uses (letters only, so it is one token)."""
    return "".join(string.ascii_lowercase[int(c, 16) % 26] for c in uuid.uuid4().hex[:10])


def get(stack: RunningStack, path: str, **params: Any) -> Any:
    response = requests.get(f"{stack.url}{path}", params=params, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def skus(stack: RunningStack, **params: Any) -> list[str]:
    return [item["sku"] for item in get(stack, "/products", **params)["items"]]


def test_a_product_created_by_ops_is_browsed_searched_and_counted_over_http(local_stack: RunningStack) -> None:
    # Given a fresh category and two fresh words
    shelf, old, new = f"e2e-{word()}", word(), word()
    sku = f"e2e-{old}"
    # When ops create a product named with an accented word and a Chinese phrase
    body = {
        "sku": sku,
        "name": f"Crème {old.capitalize()} 青花瓷",
        "kind": "virtual",
        "price": 300,
        "currency": "USD",
        "category": shelf,
    }
    created = requests.post(f"{local_stack.url}/products", json=body, headers=OPS, timeout=10)
    assert created.status_code == 201, created.text
    # Then shoppers find it by its words whatever their case and accents, in its category, and counted
    assert skus(local_stack, q=f"CREME {old.upper()}") == [sku]
    assert sku in skus(local_stack, q=f"青花瓷 {old}")
    assert skus(local_stack, category=shelf) == [sku]
    counts = {entry["category"]: entry["products"] for entry in get(local_stack, "/categories")["items"]}
    assert counts[shelf] == 1
    # When ops rename it, then hide it
    url = f"{local_stack.url}/products/{sku}"
    renamed = requests.patch(url, json={"name": f"Plain {new}"}, headers=OPS, timeout=10)
    assert renamed.status_code == 200, renamed.text
    assert (skus(local_stack, q=old), skus(local_stack, q=new)) == ([], [sku])
    hidden = requests.patch(url, json={"active": False}, headers=OPS, timeout=10)
    assert hidden.status_code == 200, hidden.text
    # Then the old word, the hidden product and its emptied category are gone from what shoppers see
    assert skus(local_stack, q=new) == []
    assert shelf not in {entry["category"] for entry in get(local_stack, "/categories")["items"]}


def test_search_pages_and_bad_queries_over_http(local_stack: RunningStack) -> None:
    # Given three products sharing a fresh word
    shared = word()
    for n in range(3):
        body = {"sku": f"e2e-{shared}-{n}", "name": f"{shared} {n}", "kind": "virtual", "price": 100, "currency": "USD"}
        assert requests.post(f"{local_stack.url}/products", json=body, headers=OPS, timeout=10).status_code == 201
    # When a shopper pages through the results two at a time
    first = get(local_stack, "/products", q=shared, limit=2)
    second = get(local_stack, "/products", q=shared, limit=2, cursor=first["next_cursor"])
    # Then every product comes once and the last page says so
    assert [item["sku"] for item in first["items"] + second["items"]] == [f"e2e-{shared}-{n}" for n in range(3)]
    assert second["next_cursor"] is None
    # And bad input is a 4xx with a stable code, never a 500
    for params, status, code in (
        ({"q": "?!"}, 422, "SEARCH_QUERY_EMPTY"),
        ({"category": "Not A Slug"}, 422, "VALIDATION_ERROR"),
        ({"limit": "1000"}, 422, "VALIDATION_ERROR"),
        ({"q": shared, "cursor": "garbage"}, 400, "INVALID_CURSOR"),
    ):
        response = requests.get(f"{local_stack.url}/products", params=params, timeout=10)
        assert (response.status_code, response.json()["code"]) == (status, code), params
