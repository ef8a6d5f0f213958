"""What a product create and a renaming update cost in DynamoDB calls and capacity (bench/awscalls.py counts)."""

from __future__ import annotations

import json
from typing import Any

import boto3

from bench.awscalls import Recorder
from tests.conftest import api_event
from tests.integration.conftest import Api

OPS: dict[str, Any] = {"user": "ops-1", "groups": ("ops",)}
# 10 tokens: blue, ceramic, teapot (name), stoneware (tag), one, litre, pours, from, short, spout (description).
TEAPOT = {
    "sku": "teapot-blue",
    "name": "Blue ceramic teapot",
    "description": "One litre; pours from a short spout.",
    "kind": "physical",
    "price": 2900,
    "currency": "USD",
    "category": "kitchen",
    "tags": ["stoneware"],
    "stock": 5,
}


def test_a_product_create_and_a_rename_are_each_one_transaction_with_their_index_items(api: Api) -> None:
    recorder = Recorder()
    recorder.install()
    try:
        recorder.describe_tables(boto3.client("dynamodb", region_name="us-east-1"), ["CatalogTable"])
        from orders import cache
        from orders.dal.dynamo import dynamodb_client

        dynamodb_client.cache_clear()  # the handlers' client is made again, with the hooks
        cache.reset()
        # When ops create a product with 10 tokens, rename it ("ceramic" out), then change its price
        with recorder.invocation("CatalogAdminFunction", "create") as created:
            assert api(api_event("catalog_admin_create_product", body=TEAPOT, **OPS)).status == 201
        with recorder.invocation("CatalogAdminFunction", "rename") as renamed:
            body = {"name": "Blue teapot"}
            event = api_event("catalog_admin_update_product", path_params={"sku": "teapot-blue"}, body=body, **OPS)
            assert api(event).status == 200
        with recorder.invocation("CatalogAdminFunction", "price") as priced:
            event = api_event(
                "catalog_admin_update_product", path_params={"sku": "teapot-blue"}, body={"price": 3100}, **OPS
            )
            assert api(event).status == 200
    finally:
        recorder.uninstall()

    def transaction(record: Any) -> Any:
        calls = record.by_api()
        print(json.dumps({"label": record.label, "by_api": calls, **record.totals()}))
        assert calls.get("TransactWriteItems") == 1
        return next(c for c in record.calls if c.operation == "TransactWriteItems")

    # Then each is one TransactWriteItems (items of 1 KB or less, 2 WCU each in a transaction): the create writes
    # the product, the counter and 10 keyword items; the rename deletes the stale keyword item and rewrites the 9
    # others (they carry the token set), and the product's index copy moves (its sort key is the name: 2 writes);
    # a price change writes the product alone (and its copy in the index)
    create_tx, rename_tx, price_tx = transaction(created), transaction(renamed), transaction(priced)
    assert (create_tx.wcu, create_tx.index_wcu) == (2 * (1 + 1 + 10), 1 + 1 + 10)
    assert (rename_tx.wcu, rename_tx.index_wcu) == (2 * (1 + 9 + 1), 2 + 9 + 1)
    assert (price_tx.wcu, price_tx.index_wcu) == (2 * 1, 1)
