"""Bad input gets 400/422 with a stable code, never a 5xx (issue 12, item 5)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from local_stack.runtime import LambdaRuntime
from tests.conftest import FAKE_AWS_ENV, api_event, api_samples, load_event
from tests.integration.conftest import REFS, Api, put_secret
from tests.integration.payments_support import (
    STRIPE_SECRET,
    create_order,
    get_order,
    post_stripe,
    stripe_event,
    webhook_event,
)

ALL_ROLES = ("reviewer", "support", "ops", "analyst", "merchant")
DEEP = "[" * 5000 + "]" * 5000
LONG_INT = '{"items": [{"sku": "coins-500", "quantity": ' + "1" * 5000 + "}]}"
BODY_ROUTES = sorted(
    key for key, name in api_samples().items() if load_event(name)["body"] and not key[1].startswith("/webhooks")
)


@pytest.fixture
def runtime(aws: None) -> LambdaRuntime:
    # The webhook secret is where a deployer puts it: the stack's Secrets Manager secret.
    put_secret("StripeWebhookSecret", STRIPE_SECRET)
    return LambdaRuntime(REFS, base_env=FAKE_AWS_ENV)


def _with_body(method: str, resource: str, raw: str) -> dict[str, Any]:
    return api_event(api_samples()[(method, resource)], user="staff-1", groups=ALL_ROLES, raw_body=raw)


@pytest.mark.parametrize("raw", [DEEP, LONG_INT], ids=["nested-5000", "int-5000-digits"])
@pytest.mark.parametrize(("method", "resource"), BODY_ROUTES, ids=[f"{m} {p}" for m, p in BODY_ROUTES])
def test_a_body_json_cannot_read_is_400_invalid_json_on_every_json_route(
    api: Api, method: str, resource: str, raw: str
) -> None:
    # Given a caller allowed on the route, sending a body nested 5000 deep or with a 5000-digit integer
    result = api(_with_body(method, resource, raw))
    # Then the answer is 400 INVALID_JSON
    assert (result.status, result.body["code"]) == (400, "INVALID_JSON"), result.body


@pytest.mark.parametrize("raw", [DEEP, '{"signedPayload": ' + DEEP + "}", LONG_INT])
def test_webhooks_refuse_unreadable_bodies_with_4xx_before_and_after_the_signature(api: Api, raw: str) -> None:
    # Apple's envelope is read before its signature; Stripe's after (signed here); Google's after its token.
    signed_stripe = post_stripe(api, raw)
    apple = api(webhook_event("apple", raw))
    google = api(webhook_event("google", raw))
    unsigned_stripe = api(webhook_event("stripe", raw))
    assert (signed_stripe.status, signed_stripe.body["code"]) == (400, "INVALID_JSON")
    assert (apple.status, apple.body["code"]) in ((400, "INVALID_JSON"), (400, "WEBHOOK_SIGNATURE_MISSING"))
    if raw == DEEP:
        assert (apple.status, apple.body["code"]) == (400, "INVALID_JSON")
    assert 400 <= google.status < 500 and 400 <= unsigned_stripe.status < 500


# --- time windows --------------------------------------------------------------------------------
EDGES = [
    # (from, to, status, code): naive times are UTC, so they compare with aware ones
    ("2026-11-01T00:00:00Z", "2026-11-02T00:00:00", 200, None),
    ("2026-11-01T00:00:00", "2026-11-02T00:00:00+02:00", 200, None),
    ("2026-11-02T00:00:00", "2026-11-01T00:00:00Z", 422, "*"),
    # offsets that move the time outside years 1..9999
    ("0001-01-01T00:00:00+14:00", "0001-01-02T00:00:00Z", 422, "VALIDATION_ERROR"),
    ("9999-12-30T00:00:00Z", "9999-12-31T23:59:59-14:00", 422, "VALIDATION_ERROR"),
    # the edges themselves, in UTC
    ("0001-01-01T00:00:00Z", "0001-01-02T00:00:00Z", 200, None),
    ("9999-12-30T00:00:00Z", "9999-12-31T23:59:59.999999Z", 200, None),
    ("0001-01-01T00:00:00-14:00", "0001-01-02T00:00:00Z", 200, None),
]


@pytest.mark.parametrize(("start", "end", "status", "code"), EDGES)
def test_list_orders_time_window_edges(api: Api, start: str, end: str, status: int, code: str | None) -> None:
    create_order(api, user="user-0001")
    result = api(api_event("orders_list_orders", query={"from": start, "to": end}))
    assert result.status == status, result.body
    if code == "*":
        assert result.body["code"] == "INVALID_TIME_RANGE"
    elif code:
        assert result.body["code"] == code and result.body["details"][0]["loc"][0] == "query"


@pytest.mark.parametrize(("start", "end", "status", "code"), EDGES)
def test_report_summary_time_window_edges(api: Api, start: str, end: str, status: int, code: str | None) -> None:
    result = api(api_event("reports_summary", user="analyst-1", groups=("analyst",), query={"from": start, "to": end}))
    assert result.status == status, result.body
    if code == "*":
        assert result.body["code"] == "REPORT_WINDOW_INVALID"
    elif code:
        assert result.body["code"] == code and result.body["details"][0]["loc"][0] == "query"


def test_report_and_orders_from_the_year_one_read_back_in_order(api: Api) -> None:
    # An order created now is not in a window at the start of the calendar, and is in one that spans now
    create_order(api, user="user-0001")
    early = api(api_event("orders_list_orders", query={"from": "0001-01-01T00:00:00Z", "to": "0001-12-31T00:00Z"}))
    always = api(api_event("orders_list_orders", query={"from": "0001-01-01T00:00:00Z"}))
    assert (early.status, len(early.body["items"])) == (200, 0)
    assert (always.status, len(always.body["items"])) == (200, 1)


# --- prices and totals ---------------------------------------------------------------------------------
def _product(sku: str, price: int) -> dict[str, Any]:
    return {"sku": sku, "name": "Gold", "kind": "virtual", "price": price, "currency": "USD"}


def _create_product(api: Api, body: dict[str, Any]) -> Any:
    return api(api_event("catalog_admin_create_product", user="ops-1", groups=("ops",), body=body))


@pytest.mark.parametrize("price", [0, 10**13 // 999 + 1, 10**13])
def test_a_product_that_could_never_be_paid_or_would_overflow_a_total_is_refused(api: Api, price: int) -> None:
    # When ops create a product at this price, or change an existing one to it
    created = _create_product(api, _product("gold-x", price))
    patched = api(
        api_event(
            "catalog_admin_update_product",
            user="ops-1",
            groups=("ops",),
            path_params={"sku": "coins-500"},
            body={"price": price},
        )
    )
    # Then both are 422 on the price field, and nothing changed
    for result in (created, patched):
        assert (result.status, result.body["code"]) == (422, "VALIDATION_ERROR"), result.body
        assert result.body["details"][0]["loc"] == ["body", "price"]
    product = api(api_event("catalog_get_product", path_params={"sku": "coins-500"}))
    assert product.body["price"] == 499


def test_the_largest_price_is_accepted_and_an_order_over_the_money_limit_is_refused(api: Api) -> None:
    # Given the dearest product a line of the largest quantity can hold
    assert _create_product(api, _product("gold-max", 10**13 // 999)).status == 201
    # When one line of 999 is ordered, it is within the limit
    ok = api(api_event("create_order", body={"items": [{"sku": "gold-max", "quantity": 999}]}))
    assert ok.status == 201, ok.body
    # But two such lines go over the money limit: 422 with a stable code, nothing reserved
    over = api(
        api_event(
            "create_order",
            body={"items": [{"sku": "gold-max", "quantity": 999}, {"sku": "coins-500", "quantity": 999}]},
            headers={"Idempotency-Key": "another-order-0002"},
        )
    )
    assert (over.status, over.body["code"]) == (422, "ORDER_TOTAL_OUT_OF_RANGE"), over.body


def test_a_stored_product_priced_zero_cannot_be_ordered(api: Api, ddb: Any) -> None:
    # Given a product priced 0 already in the catalog (written before prices were checked)
    ddb.update_item(
        TableName="CatalogTable",
        Key={"sku": {"S": "coins-500"}},
        UpdateExpression="SET price = :zero",
        ExpressionAttributeValues={":zero": {"N": "0"}},
    )
    # When it is ordered alone
    result = api(api_event("create_order", body={"items": [{"sku": "coins-500", "quantity": 1}]}))
    # Then the order is refused: it could never be paid
    assert (result.status, result.body["code"]) == (422, "ORDER_TOTAL_OUT_OF_RANGE"), result.body
    assert json.dumps(result.body)


# --- authentic webhooks with values no payment event can hold -----------------------------------------
@pytest.mark.parametrize(
    "change",
    [
        {"amount": 10**14},
        {"amount": 2**70},
        {"currency": "u$d"},
        {"id": "pi_" + "x" * 300},
    ],
    ids=["amount-over-limit", "amount-2^70", "currency-not-iso", "long-reference"],
)
def test_a_signed_event_with_values_out_of_range_is_a_stable_4xx(api: Api, change: dict[str, Any]) -> None:
    # Given a signed Stripe event whose object carries a value the ledger cannot hold
    order = create_order(api)
    body = stripe_event(order["order_id"])
    body["data"]["object"].update(change)
    if "id" in change:
        body["id"] = "evt_" + "y" * 300
    # When it is delivered (twice)
    results = [post_stripe(api, body) for _ in range(2)]
    # Then it is refused with a stable code each time, never a 5xx, and the order is untouched
    assert [(r.status, r.body["code"]) for r in results] == [(400, "INVALID_WEBHOOK_PAYLOAD")] * 2
    assert get_order(api, order["order_id"])["status"] == "PENDING_PAYMENT"
