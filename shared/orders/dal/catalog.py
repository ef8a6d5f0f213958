"""Products in CatalogTable (partition key ``sku``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from orders.dal.dynamo import Repository, cancellation_codes, from_item, to_item
from orders.errors import ConcurrentModification, ProductExists, ProductNotFound
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
    def create(self, product: Product, *, extra: Sequence[TransactWriteItemTypeDef] = ()) -> None:
        """Add a product; PRODUCT_EXISTS if the sku is taken (conditional put, no read-then-write).

        ``extra`` items (a listing's decision) join the product's write in one TransactWriteItems: all or none.
        """
        put: dict[str, Any] = {
            "TableName": self._table,
            "Item": to_item(product.model_dump(mode="json")),
            "ConditionExpression": "attribute_not_exists(sku)",
        }
        try:
            if extra:
                self._transact([{"Put": put}, *extra])  # type: ignore[typeddict-item]
            else:
                self.client.put_item(**put)
        except ClientError as exc:
            if _product_refused(exc, transaction=bool(extra)):
                raise ProductExists(sku=product.sku) from exc
            raise

    def update(
        self,
        sku: str,
        changes: dict[str, Any],
        *,
        extra: Sequence[TransactWriteItemTypeDef] = (),
        current: Product | None = None,
        merchant_id: str | None = None,
    ) -> Product:
        """Set the given attributes (None removes one) of an existing product; the rest stay as stored.

        Only the named attributes are written, so a price change never overwrites stock that orders
        are reserving at the same moment. ``merchant_id``: only if the product is still that merchant's.
        ``extra`` items (a listing's decision) join the write in one TransactWriteItems; the product
        returned is then ``current`` with ``changes`` (a transaction returns no attributes).
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
        condition = "attribute_exists(sku)"
        if merchant_id is not None:
            names["#owner"] = "merchant_id"
            values[":owner"] = {"S": merchant_id}
            condition += " AND #owner = :owner"
        request: dict[str, Any] = {
            "TableName": self._table,
            "Key": {"sku": {"S": sku}},
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
        }
        if values:
            request["ExpressionAttributeValues"] = values
        if extra and current is None:
            raise ValueError("an update with extra items needs the current product")
        try:
            if extra:
                self._transact([{"Update": request}, *extra])  # type: ignore[typeddict-item]
            else:
                response = self.client.update_item(**request, ReturnValues="ALL_NEW")
        except ClientError as exc:
            if _product_refused(exc, transaction=bool(extra)):
                raise ProductNotFound(sku=sku) from exc
            raise
        if extra:
            assert current is not None
            return Product.model_validate({**current.model_dump(), **changes})
        return Product.model_validate(from_item(response["Attributes"]))

    def _transact(self, items: list[TransactWriteItemTypeDef]) -> None:
        """The product write (item 0) and ``extra``; a refused extra item is ConcurrentModification."""
        try:
            self.client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            codes = cancellation_codes(exc)
            if codes and codes[0] == "None" and "ConditionalCheckFailed" in codes:
                conflict = ConcurrentModification()
                conflict.failed_items = tuple(i for i, code in enumerate(codes) if code == "ConditionalCheckFailed")
                raise conflict from exc
            raise

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


def _product_refused(exc: ClientError, *, transaction: bool) -> bool:
    """Whether the product's own condition refused the write (alone, or item 0 of a transaction)."""
    code = exc.response["Error"]["Code"]
    if not transaction:
        return code == "ConditionalCheckFailedException"
    codes = cancellation_codes(exc)
    return code == "TransactionCanceledException" and bool(codes) and codes[0] == "ConditionalCheckFailed"
