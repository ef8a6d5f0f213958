"""ProductSearch on DynamoDB: Queries of CatalogTable's SearchIndex (layout in orders.dal.catalog), never a Scan.

- browse one category: one Query of ``CAT#<category>`` (name order), ``limit`` items read per page;
- browse everything: the category partitions one after another (the categories come from their counters);
- search: a Query of the driving token's partition ``TOK#<token>`` (sku order), filtered on the other tokens
  (and the category) that every token item carries, then one BatchGetItem of the page's products (fresh
  prices; the caller drops a product unlisted in between). The filter is applied after the read: a page may read more
  items than it returns, at most ``READ_BUDGET`` per request (then it returns what it has and a cursor).
"""

from __future__ import annotations

from typing import Any

from orders.dal import cursor as cursors
from orders.dal.catalog import (
    CATEGORIES_PK,
    CATEGORY_PREFIX,
    INDEX_KEYS,
    SEARCH_INDEX,
    CatalogRepository,
    category_pk,
    product_of,
    token_pk,
)
from orders.dal.dynamo import from_item
from orders.errors import InvalidCursor
from orders.models.catalog import CategoryCount, ProductPage

# Index items a search request may read before it answers with what it found so far (and a cursor).
READ_BUDGET = 1000
_SEARCH_BATCH = 100


class DynamoProductSearch:
    def __init__(self, catalog: CatalogRepository) -> None:
        self._catalog = catalog

    @property
    def _client(self) -> Any:
        return self._catalog.client

    @property
    def _table(self) -> str:
        return self._catalog._table

    # --- browse ------------------------------------------------------------------------------
    def browse(self, category: str | None, *, limit: int, cursor: str | None) -> ProductPage:
        if category is not None:
            start = self._decode(cursor, category_pk(category)) if cursor else None
            return self._browse_partitions([category], start=start, limit=limit)
        start = self._decode(cursor, None) if cursor else None
        names = [entry.category for entry in self.categories()]
        if start is not None:
            current = start["search_pk"]["S"][len(CATEGORY_PREFIX) :]
            names = [name for name in names if name > current]
            return self._browse_partitions([current, *names], start=start, limit=limit)
        return self._browse_partitions(names, start=None, limit=limit)

    def _browse_partitions(self, categories: list[str], *, start: dict[str, Any] | None, limit: int) -> ProductPage:
        raw: list[dict[str, Any]] = []
        read = 0
        more = False
        for position, category in enumerate(categories):
            request: dict[str, Any] = {
                "TableName": self._table,
                "IndexName": SEARCH_INDEX,
                "KeyConditionExpression": "search_pk = :pk",
                "ExpressionAttributeValues": {":pk": {"S": category_pk(category)}},
            }
            if start is not None and start["search_pk"]["S"] == category_pk(category):
                request["ExclusiveStartKey"] = start
            while True:
                response = self._client.query(**request, Limit=limit - len(raw))
                read += response.get("ScannedCount", 0)
                raw.extend(response.get("Items", []))
                last = response.get("LastEvaluatedKey")
                if not last:
                    break
                if len(raw) >= limit:
                    more = True
                    break
                request["ExclusiveStartKey"] = last
            if len(raw) >= limit:
                more = more or position < len(categories) - 1
                break
        next_cursor = cursors.encode({name: raw[-1][name] for name in INDEX_KEYS}) if more and raw else None
        return ProductPage(items=[product_of(item) for item in raw], next_cursor=next_cursor, items_read=read)

    # --- search ------------------------------------------------------------------------------
    def search(self, terms: list[str], category: str | None, *, limit: int, cursor: str | None) -> ProductPage:
        driving, *others = terms
        values: dict[str, Any] = {":pk": {"S": token_pk(driving)}}
        filters = []
        for i, term in enumerate(others):
            values[f":t{i}"] = {"S": term}
            filters.append(f"contains(tokens, :t{i})")
        if category is not None:
            values[":category"] = {"S": category}
            filters.append("category = :category")
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": SEARCH_INDEX,
            "KeyConditionExpression": "search_pk = :pk",
            "ExpressionAttributeValues": values,
        }
        if filters:
            request["FilterExpression"] = " AND ".join(filters)
        if cursor:
            request["ExclusiveStartKey"] = self._decode(cursor, token_pk(driving))
        hits: list[dict[str, Any]] = []
        read = 0
        next_key: dict[str, Any] | None = None
        while True:
            # Unfiltered, every item read is a hit: read no more than the page needs.
            batch = _SEARCH_BATCH if filters else limit - len(hits)
            response = self._client.query(**request, Limit=batch)
            read += response.get("ScannedCount", 0)
            last = response.get("LastEvaluatedKey")
            items = response.get("Items", [])
            room = limit - len(hits)
            if len(items) >= room:
                hits.extend(items[:room])
                # More may follow the last hit: later items of this batch, or later batches.
                if len(items) > room or last:
                    next_key = {name: hits[-1][name] for name in INDEX_KEYS}
                break
            hits.extend(items)
            if not last:
                break
            request["ExclusiveStartKey"] = last
            if read >= READ_BUDGET:
                next_key = last
                break
        skus = [from_item(hit)["product"] for hit in hits]
        found = self._catalog.get_many(skus)
        products = [found[sku] for sku in skus if sku in found]
        return ProductPage(
            items=products, next_cursor=cursors.encode(next_key) if next_key else None, items_read=read + len(found)
        )

    # --- categories ----------------------------------------------------------------------------
    def categories(self) -> list[CategoryCount]:
        counts: list[CategoryCount] = []
        paginator = self._client.get_paginator("query")
        for page in paginator.paginate(
            TableName=self._table,
            IndexName=SEARCH_INDEX,
            KeyConditionExpression="search_pk = :pk",
            ExpressionAttributeValues={":pk": {"S": CATEGORIES_PK}},
        ):
            for item in page.get("Items", []):
                data = from_item(item)
                if data.get("products", 0) > 0:
                    counts.append(CategoryCount(category=data["search_sk"], products=data["products"]))
        return counts

    # --- cursors -------------------------------------------------------------------------------
    def _decode(self, cursor: str, partition: str | None) -> dict[str, Any]:
        expected = {"search_pk": partition} if partition else {}
        key = cursors.decode(cursor, expected=expected, attributes=INDEX_KEYS)
        if partition is None and not key["search_pk"]["S"].startswith(CATEGORY_PREFIX):
            raise InvalidCursor()
        return key
