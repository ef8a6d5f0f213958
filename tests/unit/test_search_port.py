"""The ProductSearch port: the catalog logic on an in-memory engine, as an OpenSearch adapter would plug in."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from orders.errors import SearchQueryWithoutTerms
from orders.logic import catalog
from orders.models.catalog import CategoryCount, Product, ProductPage


def product(sku: str, *, active: bool = True) -> Product:
    return Product.model_validate(
        {"sku": sku, "name": sku, "kind": "virtual", "price": 100, "currency": "USD", "active": active}
    )


@dataclass
class FakeSearch:
    """Records what the logic asks; answers with fixed products (one hidden since it was indexed)."""

    asked: list[tuple[str, object]] = field(default_factory=list)

    def browse(self, category: str | None, *, limit: int, cursor: str | None) -> ProductPage:
        self.asked.append(("browse", (category, limit, cursor)))
        return ProductPage(items=[product("a"), product("b", active=False)], next_cursor="next")

    def search(self, terms: list[str], category: str | None, *, limit: int, cursor: str | None) -> ProductPage:
        self.asked.append(("search", (terms, category, limit, cursor)))
        return ProductPage(items=[product("c")], next_cursor=None)

    def categories(self) -> list[CategoryCount]:
        return [CategoryCount(category="kitchen", products=2)]


def test_browse_passes_the_page_request_and_drops_products_hidden_since_they_were_indexed() -> None:
    engine = FakeSearch()
    page = catalog.list_products(category="kitchen", limit=5, cursor="c1", search=engine)
    assert engine.asked == [("browse", ("kitchen", 5, "c1"))]
    assert ([p.sku for p in page.items], page.next_cursor) == (["a"], "next")


def test_search_sends_the_query_tokens_longest_first_with_the_default_page_size() -> None:
    engine = FakeSearch()
    page = catalog.list_products(q="Red HOODIE", search=engine)
    assert engine.asked == [("search", (["hoodie", "red"], None, catalog.DEFAULT_PAGE_SIZE, None))]
    assert [p.sku for p in page.items] == ["c"]


def test_a_query_without_words_never_reaches_the_engine() -> None:
    engine = FakeSearch()
    with pytest.raises(SearchQueryWithoutTerms):
        catalog.list_products(q="?!", search=engine)
    assert engine.asked == []


def test_categories_come_from_the_engine() -> None:
    assert catalog.list_categories(search=FakeSearch()) == [CategoryCount(category="kitchen", products=2)]
