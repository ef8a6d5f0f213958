"""Every product belongs to a merchant and sits in a category; products stored before that read with defaults."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import api_event
from tests.integration.conftest import SEED, Api

OPS: dict[str, Any] = {"user": "ops-1", "groups": ("ops",)}
POSTER = {"sku": "poster-a2", "name": "Poster", "kind": "physical", "price": 1500, "currency": "USD", "stock": 10}


def test_the_seeded_catalog_has_several_merchants_and_categories() -> None:
    assert len({product["merchant_id"] for product in SEED}) >= 2
    assert len({product["category"] for product in SEED}) >= 3


def test_a_product_created_with_merchant_category_and_tags_shows_them(api: Api) -> None:
    # Given ops create a product for a merchant, shelved in a category with tags
    body = {**POSTER, "merchant_id": "north-loom", "category": "posters", "tags": ["art", "a2"]}
    assert api(api_event("catalog_admin_create_product", body=body, **OPS)).status == 201
    # When anyone reads it
    public = api(api_event("catalog_get_product", path_params={"sku": "poster-a2"})).body
    # Then it carries them
    assert (public["merchant_id"], public["category"], public["tags"]) == ("north-loom", "posters", ["art", "a2"])


def test_a_product_stored_before_merchants_existed_reads_with_defaults(api: Api, ddb: Any) -> None:
    # Given an item written by the previous version (no merchant, category or tags)
    ddb.put_item(
        TableName="CatalogTable",
        Item={
            "sku": {"S": "old-item"},
            "name": {"S": "Old"},
            "kind": {"S": "virtual"},
            "price": {"N": "100"},
            "currency": {"S": "USD"},
        },
    )
    # When it is read and then moved into a category
    got = api(api_event("catalog_get_product", path_params={"sku": "old-item"})).body
    moved = api(
        api_event("catalog_admin_update_product", path_params={"sku": "old-item"}, body={"category": "gifts"}, **OPS)
    ).body
    # Then it belongs to the platform, uncategorised, until ops place it
    assert (got["merchant_id"], got["category"], got["tags"]) == ("platform", "general", [])
    assert (moved["merchant_id"], moved["category"]) == ("platform", "gifts")


@pytest.mark.parametrize(
    "change",
    [
        {"merchant_id": "North Loom"},
        {"category": ""},
        {"category": "a/b"},
        {"tags": ["ok", "Not OK"]},
        {"tags": [f"t{i}" for i in range(11)]},
    ],
)
def test_bad_merchants_categories_and_tags_are_refused(api: Api, change: dict[str, Any]) -> None:
    response = api(api_event("catalog_admin_create_product", body={**POSTER, **change}, **OPS))
    assert (response.status, response.body["code"]) == (422, "VALIDATION_ERROR")
