"""What a checkout of 2 merchants x 3 lines costs in DynamoDB calls and capacity (bench/awscalls.py counts)."""

from __future__ import annotations

import json
from typing import Any

import boto3

from bench.awscalls import Recorder
from tests.conftest import api_event
from tests.integration.conftest import Api
from tests.integration.helpers import ADDRESS, set_stock

SKUS = ["coins-500", "premium-monthly", "starter-pack-2019", "mug-classic", "tshirt-logo-m", "hoodie-logo-l"]
OPS: dict[str, Any] = {"user": "ops-1", "groups": ("ops",)}


def test_a_checkout_of_two_merchants_by_three_lines_is_one_transaction(api: Api, ddb: Any) -> None:
    # Given a cart of 3 lines from each merchant, the physical ones counting stock
    retired = {"sku": "starter-pack-2019"}
    api(api_event("catalog_admin_update_product", path_params=retired, body={"active": True}, **OPS))
    for sku in ("mug-classic", "tshirt-logo-m"):
        set_stock(ddb, sku, 10)
    for sku in SKUS:
        api(api_event("cart_put_item", path_params={"sku": sku}, body={"quantity": 1}))
    recorder = Recorder()
    recorder.install()
    try:
        tables = ["OrdersTable", "CatalogTable", "IdempotencyTable"]
        recorder.describe_tables(boto3.client("dynamodb", region_name="us-east-1"), tables)
        from orders import cache
        from orders.dal.dynamo import dynamodb_client

        dynamodb_client.cache_clear()  # the handlers' client is made again, with the hooks
        cache.reset()
        # When the cart is checked out
        with recorder.invocation("CartFunction", "checkout") as record:
            event = api_event(
                "cart_post_checkout", body={"shipping_address": ADDRESS}, headers={"Idempotency-Key": "m"}
            )
            response = api(event)
    finally:
        recorder.uninstall()
    assert response.status == 201 and len(response.body["orders"]) == 2
    # Then: the cart (GetItem), the products (one BatchGetItem), idempotency record in/out, one transaction
    calls = record.by_api()
    print(json.dumps({"by_api": calls, **record.totals()}))
    assert calls.get("TransactWriteItems") == 1 and calls.get("BatchGetItem") == 1
    transact = next(c for c in record.calls if c.operation == "TransactWriteItems")
    print(json.dumps(transact.as_dict(), default=str))
