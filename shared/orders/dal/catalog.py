"""CatalogTable (partition key ``sku``): products, and the index items that make them browsable and searchable.

    item              sku                      search_pk        search_sk              other attributes
    product           <sku>                    CAT#<category>   <name key>#<sku>       the Product fields; index state
    token (keyword)   #TOK#<token>#<sku>       TOK#<token>      <sku>                  product, category, tokens (SS)
    category counter  #CAT#<category>          CATEGORIES       <category>             products (listed count)

A product's own ``search_pk``/``search_sk`` (the sparse SearchIndex GSI) are set only while it is listed, so a
category partition of the index holds exactly the products a shopper can browse, in name order. Keys of index
items start with ``#``, which a product sku never does (``Sku``'s pattern), so they can never be read as products.

Index state on the product item (what the index holds for it *now*, so an update knows what to undo):
``indexed_tokens`` (SS, the token items that exist), ``counted_in`` (the category whose counter counts it) and
``index_rev`` (incremented by every admin write; the next one is conditional on it). A product written before
the index existed has none of them: it is not listed until reindexed (``reindex``; docs/search.md, backfill).

Every admin write is one TransactWriteItems: the product, the counters it leaves and joins (ADD -1 / +1), a
Put of each of its token items (they carry the whole token set and the category, for filtering) and a Delete
of each stale one. Stock reservations and releases (orders) touch only ``stock``: never a conflict with these.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from orders.dal.dynamo import Repository, cancellation_codes, from_item, refused, to_item
from orders.errors import ConcurrentModification, ProductExists, ProductNotFound
from orders.models.catalog import IndexEntry, Product

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

_BATCH_GET_LIMIT = 100

SEARCH_INDEX = "SearchIndex"
INDEX_KEYS = frozenset({"sku", "search_pk", "search_sk"})
CATEGORY_PREFIX = "CAT#"
TOKEN_PREFIX = "TOK#"  # noqa: S105 (a search token, not a credential)
CATEGORIES_PK = "CATEGORIES"
INDEX_STATE = ("search_pk", "search_sk", "indexed_tokens", "counted_in", "index_rev")


def category_pk(category: str) -> str:
    return f"{CATEGORY_PREFIX}{category}"


def token_pk(token: str) -> str:
    return f"{TOKEN_PREFIX}{token}"


def token_item_key(token: str, sku: str) -> str:
    return f"#TOK#{token}#{sku}"


def counter_key(category: str) -> str:
    return f"#CAT#{category}"


def is_product_key(sku: str) -> bool:
    return not sku.startswith("#")


def product_of(item: Any) -> Product:
    return Product.model_validate(from_item(item))


@dataclass(frozen=True)
class IndexState:
    """What the index holds for a product as stored (empty for a product never indexed)."""

    tokens: frozenset[str] = frozenset()
    counted_in: str | None = None
    rev: int | None = None

    @classmethod
    def of(cls, data: dict[str, Any]) -> IndexState:
        return cls(
            tokens=frozenset(data.get("indexed_tokens") or ()),
            counted_in=data.get("counted_in"),
            rev=data.get("index_rev"),
        )


class CatalogRepository(Repository):
    def get(self, sku: str) -> Product | None:
        if not is_product_key(sku):
            return None
        item = self.client.get_item(TableName=self._table, Key={"sku": {"S": sku}}).get("Item")
        return product_of(item) if item else None

    def get_with_state(self, sku: str) -> tuple[Product, IndexState] | None:
        """The product and what the index holds for it (strongly consistent: an admin write follows)."""
        if not is_product_key(sku):
            return None
        item = self.client.get_item(TableName=self._table, Key={"sku": {"S": sku}}, ConsistentRead=True).get("Item")
        if not item:
            return None
        data = from_item(item)
        return Product.model_validate(data), IndexState.of(data)

    def get_many(self, skus: Iterable[str]) -> dict[str, Product]:
        """Products by sku in one BatchGetItem per 100 skus; unknown skus are simply absent."""
        wanted = sorted({sku for sku in skus if is_product_key(sku)})
        found: dict[str, Product] = {}
        for start in range(0, len(wanted), _BATCH_GET_LIMIT):
            request: dict[str, Any] = {
                self._table: {"Keys": [{"sku": {"S": sku}} for sku in wanted[start : start + _BATCH_GET_LIMIT]]}
            }
            while request:
                response = self.client.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(self._table, []):
                    product = product_of(item)
                    found[product.sku] = product
                request = dict(response.get("UnprocessedKeys") or {})
        return found

    # --- administration (ops): product and index in one transaction ----------------------------
    def create(self, product: Product, entry: IndexEntry, *, extra: Sequence[TransactWriteItemTypeDef] = ()) -> None:
        """Add a product and its index items; PRODUCT_EXISTS if the sku is taken (conditional put).

        ``extra`` items (a listing's decision) join the same TransactWriteItems: all or none.
        """
        items: list[TransactWriteItemTypeDef] = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": self._product_item(product, entry),
                    "ConditionExpression": "attribute_not_exists(sku)",
                }
            },
            *self._index_changes(product.sku, entry, IndexState()),
            *extra,
        ]
        try:
            self._transact(items)
        except ClientError as exc:
            if cancellation_codes(exc)[:1] == ["ConditionalCheckFailed"]:
                raise ProductExists(sku=product.sku) from exc
            raise

    def update(
        self,
        sku: str,
        changes: dict[str, Any],
        entry: IndexEntry,
        state: IndexState,
        *,
        extra: Sequence[TransactWriteItemTypeDef] = (),
        merchant_id: str | None = None,
    ) -> Product:
        """Set the given attributes (None removes one) and bring the index to ``entry``, in one transaction.

        ``merchant_id``: only if the product is still that merchant's (else PRODUCT_NOT_FOUND). ``extra`` items
        (a listing's decision) join the same transaction.

        Only the named attributes are written, so a price change never overwrites stock that orders are
        reserving at the same moment. Conditional on ``index_rev`` being what was read with ``state``:
        two admin writes at once cannot leave the index describing the loser (409 CONCURRENT_MODIFICATION).
        """
        rev = (state.rev or 0) + 1
        index_attributes = self._state_attributes(sku, entry, rev=rev)
        everything = {**changes, **{name: index_attributes.get(name) for name in INDEX_STATE}}
        names = {f"#f{i}": name for i, name in enumerate(everything)}
        sets = [f"{alias} = :v{i}" for i, (alias, name) in enumerate(names.items()) if everything[name] is not None]
        removes = [alias for alias, name in names.items() if everything[name] is None]
        values = {
            f":v{i}": to_item({"v": everything[name]})["v"]
            for i, name in enumerate(names.values())
            if everything[name] is not None
        }
        rev_alias = next(alias for alias, name in names.items() if name == "index_rev")
        if state.rev is None:
            condition = f"attribute_exists(sku) AND attribute_not_exists({rev_alias})"
        else:
            condition = f"attribute_exists(sku) AND {rev_alias} = :read_rev"
            values[":read_rev"] = {"N": str(state.rev)}
        if merchant_id is not None:
            names["#owner"] = "merchant_id"
            values[":owner"] = {"S": merchant_id}
            condition += " AND #owner = :owner"
        expression = " ".join(
            part
            for part in (
                ("SET " + ", ".join(sets)) if sets else "",
                ("REMOVE " + ", ".join(removes)) if removes else "",
            )
            if part
        )
        items: list[TransactWriteItemTypeDef] = [
            {
                "Update": {
                    "TableName": self._table,
                    "Key": {"sku": {"S": sku}},
                    "UpdateExpression": expression,
                    "ConditionExpression": condition,
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": values,
                }
            },
            *self._index_changes(sku, entry, state),
            *extra,
        ]
        try:
            self._transact(items)
        except ClientError as exc:
            if cancellation_codes(exc)[:1] == ["ConditionalCheckFailed"]:
                now = self.get(sku)
                if now is None or (merchant_id is not None and now.merchant_id != merchant_id):
                    raise ProductNotFound(sku=sku) from exc
                raise ConcurrentModification("The product was changed by another request; retry.", sku=sku) from exc
            raise
        product = self.get(sku)
        if product is None:  # deleted right after: not something this API does
            raise ProductNotFound(sku=sku)
        return product

    def _product_item(self, product: Product, entry: IndexEntry) -> dict[str, Any]:
        return to_item(product.model_dump(mode="json") | self._state_attributes(product.sku, entry, rev=1))

    def _token_items(self, sku: str, entry: IndexEntry) -> list[dict[str, Any]]:
        return [
            to_item(
                {
                    "sku": token_item_key(token, sku),
                    "search_pk": token_pk(token),
                    "search_sk": sku,
                    "product": sku,
                    "category": entry.category,
                    "tokens": set(entry.tokens),
                }
            )
            for token in entry.tokens
        ]

    def _state_attributes(self, sku: str, entry: IndexEntry, *, rev: int) -> dict[str, Any]:
        """The product item's index attributes for ``entry`` (None: removed)."""
        return {
            "search_pk": category_pk(entry.category) if entry.listed else None,
            "search_sk": f"{entry.name_key}#{sku}" if entry.listed else None,
            "indexed_tokens": set(entry.tokens) if entry.listed and entry.tokens else None,
            "counted_in": entry.category if entry.listed else None,
            "index_rev": rev,
        }

    def _index_changes(self, sku: str, entry: IndexEntry, state: IndexState) -> list[TransactWriteItemTypeDef]:
        """Counter moves, token items to (re)write and stale token items to delete."""
        changes: list[TransactWriteItemTypeDef] = []
        counted = entry.category if entry.listed else None
        if state.counted_in != counted:
            if state.counted_in is not None:
                changes.append(self._count(state.counted_in, -1))
            if counted is not None:
                changes.append(self._count(counted, +1))
        tokens = frozenset(entry.tokens) if entry.listed else frozenset()
        # Token items carry the token set and the category: rewrite them all when either changes.
        if tokens and (tokens != state.tokens or state.counted_in != counted):
            changes.extend({"Put": {"TableName": self._table, "Item": item}} for item in self._token_items(sku, entry))
        for token in sorted(state.tokens - tokens):
            changes.append({"Delete": {"TableName": self._table, "Key": {"sku": {"S": token_item_key(token, sku)}}}})
        return changes

    def _count(self, category: str, delta: int) -> TransactWriteItemTypeDef:
        return {
            "Update": {
                "TableName": self._table,
                "Key": {"sku": {"S": counter_key(category)}},
                "UpdateExpression": "ADD products :d SET search_pk = :pk, search_sk = :c",
                "ExpressionAttributeValues": {
                    ":d": {"N": str(delta)},
                    ":pk": {"S": CATEGORIES_PK},
                    ":c": {"S": category},
                },
            }
        }

    # --- bulk import (an empty catalog: first load, benchmarks) ---------------------------------
    def bulk_load(self, products: Iterable[tuple[Product, IndexEntry]]) -> int:
        """Write products and their token items with BatchWriteItem (25 items a call), then add to the counters.

        Not transactional and unconditional (a product already stored is overwritten without undoing its old
        index items): for filling a catalog with new skus that nothing else writes yet (an import,
        bench/search_scale.py). Returns the number of items written.
        """
        counts: dict[str, int] = {}
        batch: list[dict[str, Any]] = []
        written = 0

        def flush() -> None:
            request: dict[str, Any] = {self._table: [{"PutRequest": {"Item": item}} for item in batch]}
            while request:
                request = dict(self.client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {})
            batch.clear()

        def add(item: dict[str, Any]) -> None:
            nonlocal written
            batch.append(item)
            written += 1
            if len(batch) == 25:
                flush()

        for product, entry in products:
            add(self._product_item(product, entry))
            if entry.listed:
                counts[entry.category] = counts.get(entry.category, 0) + 1
                for item in self._token_items(product.sku, entry):
                    add(item)
        if batch:
            flush()
        for category, count in sorted(counts.items()):  # added to what a counter already holds
            self.client.update_item(**self._count(category, count)["Update"])
            written += 1
        return written

    # --- backfill (one-off, docs/search.md) ----------------------------------------------------
    def never_indexed(self) -> Iterator[Product]:
        """Products written before the index existed (no ``index_rev``). A Scan: for the one-off backfill only."""
        paginator = self.client.get_paginator("scan")
        for page in paginator.paginate(
            TableName=self._table,
            FilterExpression="attribute_not_exists(index_rev) AND NOT begins_with(sku, :hash)",
            ExpressionAttributeValues={":hash": {"S": "#"}},
        ):
            for item in page.get("Items", []):
                yield product_of(item)

    def _transact(self, items: list[TransactWriteItemTypeDef]) -> None:
        """The product write (item 0) and ``extra``; a refused extra item is ConcurrentModification."""
        try:
            self.client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            codes = cancellation_codes(exc)
            if codes and codes[0] == "None" and "ConditionalCheckFailed" in codes:
                raise refused(codes) from exc
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
