"""POST /orders through the real handler on moto: pricing, idempotency, and every bad input."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import api_event, load_event
from tests.integration.conftest import Api

PHYSICAL_ORDER = json.loads(load_event("create_order")["body"])  # two shirts and coins, with an address


def count(ddb: Any, table: str) -> int:
    return int(ddb.scan(TableName=table, Select="COUNT")["Count"])


def create(api: Api, body: Any = PHYSICAL_ORDER, *, key: str | None = None, user: str = "user-0001") -> Any:
    headers = {"Idempotency-Key": key} if key else {}
    event = api_event("create_order", body=body, user=user, headers=headers)
    if not key:
        event["headers"].pop("Idempotency-Key", None)
        event["multiValueHeaders"].pop("Idempotency-Key", None)
    return api(event)


def test_order_is_priced_by_the_server_and_starts_pending_payment(api: Api) -> None:
    # Given the seeded catalog / When a user orders two shirts and coins, sending a fake price
    body = {
        **PHYSICAL_ORDER,
        "items": [{"sku": "tshirt-logo-m", "quantity": 2, "unit_price": 1}, {"sku": "coins-500", "quantity": 1}],
    }
    response = create(api, body)
    # Then the order is created at catalog prices with shipping, for that user
    assert response.status == 201
    order = response.body
    assert order["status"] == "PENDING_PAYMENT"
    assert order["user_id"] == "user-0001"
    assert [(i["sku"], i["unit_price"], i["quantity"], i["line_total"]) for i in order["items"]] == [
        ("tshirt-logo-m", 2500, 2, 5000),
        ("coins-500", 499, 1, 499),
    ]
    assert (order["subtotal"], order["shipping_fee"], order["total"], order["refunded_total"]) == (5499, 500, 5999, 0)
    assert order["currency"] == "USD"
    assert order["order_id"].startswith("ord_")
    assert order["created_at"].endswith("Z")


def test_creation_writes_the_order_and_its_first_timeline_event(api: Api) -> None:
    order = create(api).body
    timeline = api(api_event("orders_get_timeline", path_params={"order_id": order["order_id"]})).body
    assert [(e["type"], e["from_status"], e["to_status"]) for e in timeline["items"]] == [
        ("CREATED", None, "PENDING_PAYMENT")
    ]


def test_same_idempotency_key_and_body_returns_the_same_order(api: Api, ddb: Any) -> None:
    # Given an order placed with an Idempotency-Key
    first = create(api, key="key-1")
    # When the client retries with the same key and body
    again = create(api, key="key-1")
    # Then it gets the same order back and only one order exists
    assert (first.status, again.status) == (201, 201)
    assert again.body == first.body
    orders = api(api_event("orders_list_orders", query={})).body["items"]
    assert [o["order_id"] for o in orders] == [first.body["order_id"]]


def test_same_idempotency_key_with_another_body_is_a_conflict(api: Api) -> None:
    create(api, key="key-2")
    other = create(api, {"items": [{"sku": "coins-500", "quantity": 5}]}, key="key-2")
    assert other.status == 409
    assert other.body["code"] == "IDEMPOTENCY_KEY_REUSED"


def test_idempotency_keys_are_per_user(api: Api) -> None:
    # Two users who happen to pick the same key get two orders.
    mine = create(api, key="shared-key", user="user-a")
    theirs = create(api, key="shared-key", user="user-b")
    assert mine.body["order_id"] != theirs.body["order_id"]
    assert theirs.body["user_id"] == "user-b"


def test_without_a_key_each_request_is_a_new_order(api: Api) -> None:
    assert create(api).body["order_id"] != create(api).body["order_id"]


def test_a_refused_request_does_not_burn_its_idempotency_key(api: Api) -> None:
    # Given a request refused for an unknown sku
    refused = create(api, {"items": [{"sku": "no-such-sku", "quantity": 1}]}, key="key-3")
    assert refused.status == 422
    # When the client fixes the body and retries with the same key / Then it goes through
    assert create(api, {"items": [{"sku": "coins-500", "quantity": 1}]}, key="key-3").status == 201


BAD_BODIES = [
    ({"items": [{"sku": "no-such-sku", "quantity": 1}]}, 422, "UNKNOWN_SKU"),
    ({"items": [{"sku": "starter-pack-2019", "quantity": 1}]}, 422, "PRODUCT_INACTIVE"),
    ({"items": [{"sku": "coins-500", "quantity": 0}]}, 422, "VALIDATION_ERROR"),
    ({"items": [{"sku": "coins-500", "quantity": -2}]}, 422, "VALIDATION_ERROR"),
    ({"items": [{"sku": "coins-500", "quantity": 10**12}]}, 422, "VALIDATION_ERROR"),
    ({"items": []}, 422, "VALIDATION_ERROR"),
    ({}, 422, "VALIDATION_ERROR"),
    ({"items": [{"sku": "coins-500", "quantity": 1}, {"sku": "coins-500-eu", "quantity": 1}]}, 422, "MIXED_CURRENCIES"),
    ({"items": [{"sku": "mug-classic", "quantity": 1}]}, 422, "SHIPPING_ADDRESS_REQUIRED"),
    ({"items": [{"sku": "mug-classic", "quantity": 1}], "shipping_address": {"name": "x"}}, 422, "VALIDATION_ERROR"),
    ([{"sku": "coins-500", "quantity": 1}], 422, "VALIDATION_ERROR"),
    ("an order please", 422, "VALIDATION_ERROR"),
    (42, 422, "VALIDATION_ERROR"),
    (None, 422, "VALIDATION_ERROR"),
]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    BAD_BODIES,
    ids=[
        "unknown-sku",
        "inactive-sku",
        "quantity-0",
        "quantity-negative",
        "quantity-absurd",
        "no-items",
        "empty-object",
        "mixed-currencies",
        "physical-no-address",
        "bad-address",
        "array-body",
        "string-body",
        "number-body",
        "null-body",
    ],
)
def test_bad_order_is_refused_with_a_stable_code_and_nothing_is_written(
    api: Api, ddb: Any, body: Any, status: int, code: str
) -> None:
    # When the order is sent (with an Idempotency-Key, so that path is exercised too)
    response = create(api, body, key="bad-input-key")
    # Then it is refused with the right status and code, and no table holds anything new
    assert (response.status, response.body["code"]) == (status, code)
    assert response.body["message"]
    assert count(ddb, "OrdersTable") == 0
    assert count(ddb, "IdempotencyTable") == 0


@pytest.mark.parametrize("raw", ["{not json", '{"items": [', "\x00", "{'items': []}"])
def test_malformed_json_is_a_400(api: Api, ddb: Any, raw: str) -> None:
    response = api(api_event("create_order", raw_body=raw))
    assert (response.status, response.body["code"]) == (400, "INVALID_JSON")
    assert count(ddb, "OrdersTable") == 0


def test_an_empty_body_is_a_missing_body(api: Api, ddb: Any) -> None:
    response = api(api_event("create_order", raw_body=""))
    assert (response.status, response.body["code"]) == (422, "VALIDATION_ERROR")
    assert count(ddb, "OrdersTable") == 0


def test_a_request_without_a_user_is_a_401(api: Api, ddb: Any) -> None:
    response = api(api_event("create_order", user=None))
    assert (response.status, response.body["code"]) == (401, "UNAUTHORIZED")
    assert count(ddb, "OrdersTable") == 0


def test_an_oversized_idempotency_key_is_refused(api: Api) -> None:
    response = create(api, key="k" * 300)
    assert (response.status, response.body["code"]) == (422, "VALIDATION_ERROR")
