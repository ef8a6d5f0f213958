"""Products in CatalogTable (partition key ``sku``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from orders.dal.dynamo import Repository, from_item, to_item
from orders.models.catalog import Product

_BATCH_GET_LIMIT = 100


class CatalogRepository(Repository):
    def get(self, sku: str) -> Product | None:
        item = self.client.get_item(TableName=self._table, Key={"sku": {"S": sku}}).get("Item")
        return Product.model_validate(from_item(item)) if item else None

    def get_many(self, skus: Iterable[str]) -> dict[str, Product]:
        """Products by sku in one BatchGetItem per 100 skus; unknown skus are simply absent."""
        wanted = sorted(set(skus))
        found: dict[str, Product] = {}
        for start in range(0, len(wanted), _BATCH_GET_LIMIT):
            request: dict[str, Any] = {
                self._table: {"Keys": [{"sku": {"S": sku}} for sku in wanted[start : start + _BATCH_GET_LIMIT]]}
            }
            while request:
                response = self.client.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(self._table, []):
                    product = Product.model_validate(from_item(item))
                    found[product.sku] = product
                request = dict(response.get("UnprocessedKeys") or {})
        return found

    def list_all(self) -> list[Product]:
        """Every product. The catalog is small and read whole (a Scan, paginated)."""
        products: list[Product] = []
        for page in self.client.get_paginator("scan").paginate(TableName=self._table):
            products.extend(Product.model_validate(from_item(item)) for item in page.get("Items", []))
        return sorted(products, key=lambda product: product.sku)

    def put(self, product: Product) -> None:
        self.client.put_item(TableName=self._table, Item=to_item(product.model_dump(mode="json")))
