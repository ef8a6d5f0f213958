"""Products in CatalogTable (partition key ``sku``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from orders.dal.dynamo import Repository, from_item, to_item
from orders.errors import ProductExists, ProductNotFound
from orders.models.catalog import Product

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

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

    # --- administration (ops) -----------------------------------------------------------------
    def create(self, product: Product) -> None:
        """Add a product; PRODUCT_EXISTS if the sku is taken (conditional put, no read-then-write)."""
        try:
            self.client.put_item(
                TableName=self._table,
                Item=to_item(product.model_dump(mode="json")),
                ConditionExpression="attribute_not_exists(sku)",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise ProductExists(sku=product.sku) from exc
            raise

    def update(self, sku: str, changes: dict[str, Any]) -> Product:
        """Set the given attributes (None removes one) of an existing product; the rest stay as stored.

        Only the named attributes are written, so a price change never overwrites stock that orders
        are reserving at the same moment.
        """
        names = {f"#f{i}": name for i, name in enumerate(changes)}
        sets = [f"{alias} = :v{i}" for i, (alias, name) in enumerate(names.items()) if changes[name] is not None]
        removes = [alias for alias, name in names.items() if changes[name] is None]
        values = {
            f":v{i}": to_item({"v": changes[name]})["v"]
            for i, name in enumerate(names.values())
            if changes[name] is not None
        }
        expression = " ".join(
            part
            for part in (
                ("SET " + ", ".join(sets)) if sets else "",
                ("REMOVE " + ", ".join(removes)) if removes else "",
            )
            if part
        )
        request: dict[str, Any] = {
            "TableName": self._table,
            "Key": {"sku": {"S": sku}},
            "UpdateExpression": expression,
            "ConditionExpression": "attribute_exists(sku)",
            "ExpressionAttributeNames": names,
            "ReturnValues": "ALL_NEW",
        }
        if values:
            request["ExpressionAttributeValues"] = values
        try:
            response = self.client.update_item(**request)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise ProductNotFound(sku=sku) from exc
            raise
        return Product.model_validate(from_item(response["Attributes"]))

    # --- inventory: items for the order's own transaction ---------------------------------------
    def reservation(self, sku: str, quantity: int) -> TransactWriteItemTypeDef:
        """Take ``quantity`` units, on condition that that many are left (stock never goes below zero)."""
        return {
            "Update": {
                "TableName": self._table,
                "Key": {"sku": {"S": sku}},
                "UpdateExpression": "SET stock = stock - :q",
                "ConditionExpression": "stock >= :q",
                "ExpressionAttributeValues": {":q": {"N": str(quantity)}},
            }
        }

    def release(self, sku: str, quantity: int) -> TransactWriteItemTypeDef:
        """Put ``quantity`` units back (only where the product still counts stock)."""
        return {
            "Update": {
                "TableName": self._table,
                "Key": {"sku": {"S": sku}},
                "UpdateExpression": "SET stock = stock + :q",
                "ConditionExpression": "attribute_exists(stock)",
                "ExpressionAttributeValues": {":q": {"N": str(quantity)}},
            }
        }
