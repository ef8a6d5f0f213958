"""catalog: ``GET /products`` (browse a category, search), ``GET /products/{sku}``, ``GET /categories`` (public)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from orders.http import build_resolver, lambda_entry
from orders.logic import catalog
from orders.models.api import CategoryList, CategoryOut, ProductList, ProductOut
from orders.params import PageCursor, PageLimit, Sku

router = Router()


@router.get(
    "/products",
    summary="Products on sale: browse a category or search by keyword",
    description='`{"items", "next_cursor"}`: a category in name order, everything category by category, or `q`: '
    "products having every word (case- and accent-insensitive, Chinese by character bigrams); Queries of index "
    "items, never a Scan ([docs/search.md](docs/search.md)); 422 `SEARCH_QUERY_EMPTY`, `SEARCH_QUERY_TOO_LONG`",
    tags=["catalog"],
)
def list_products(
    category: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=40,
            pattern=r"^[a-z0-9][a-z0-9-]*$",
            description="A category slug",
            examples=["kitchen"],
        ),
    ] = None,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            description="Keywords, all of which must match (case- and accent-insensitive; Chinese by bigrams)",
        ),
    ] = None,
    limit: PageLimit = None,
    cursor: PageCursor = None,
) -> ProductList:
    page = catalog.list_products(category=category, q=q, limit=limit, cursor=cursor)
    return ProductList(items=[ProductOut.of(product) for product in page.items], next_cursor=page.next_cursor)


@router.get(
    "/products/<sku>",
    summary="One product",
    description="Any product by sku (also hidden ones); each product has a `merchant_id`, a `category` and `tags`",
    tags=["catalog"],
)
def get_product(sku: Sku) -> ProductOut:
    return ProductOut.of(catalog.get_product(sku))


@router.get("/categories", summary="Categories with the number of products on sale in each", tags=["catalog"])
def list_categories() -> CategoryList:
    return CategoryList(items=[CategoryOut.of(entry) for entry in catalog.list_categories()])


app = build_resolver(router)
lambda_handler = lambda_entry(app)
