"""Reading the catalog (browse, search, categories), and administering it (ops)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from orders.dal.repos import catalog_repository, product_search
from orders.errors import ConcurrentModification, InvalidProduct, ProductNotFound
from orders.logic.search import by_selectivity, index_entry, is_listed, query_terms
from orders.models.api import ProductCreate, ProductUpdate
from orders.models.catalog import CategoryCount, Product, ProductKind, ProductPage

if TYPE_CHECKING:
    from orders.logic.search import ProductSearch

DEFAULT_PAGE_SIZE = 50


def list_products(
    *,
    category: str | None = None,
    q: str | None = None,
    limit: int | None = None,
    cursor: str | None = None,
    search: ProductSearch | None = None,
) -> ProductPage:
    """Listed products: a category (or all, category by category) in name order, or those matching every
    token of ``q`` (in sku order, no ranking). Unlisted ones stay readable by sku, for old orders and app caches."""
    engine = search or product_search()
    size = limit or DEFAULT_PAGE_SIZE
    if q is not None:
        page = engine.search(by_selectivity(query_terms(q)), category, limit=size, cursor=cursor)
    else:
        page = engine.browse(category, limit=size, cursor=cursor)
    # The index follows every admin write in its transaction; this only drops a product unlisted mid-request.
    return page.model_copy(update={"items": [product for product in page.items if is_listed(product)]})


def list_categories(search: ProductSearch | None = None) -> list[CategoryCount]:
    """Categories with at least one listed product, and how many."""
    return (search or product_search()).categories()


def get_product(sku: str) -> Product:
    product = catalog_repository().get(sku)
    if product is None:
        raise ProductNotFound(sku=sku)
    return product


# --- administration (ops) ----------------------------------------------------------------------
def _check(product: Product) -> None:
    """Stock counts physical goods only; a subscription period only means something for subscriptions."""
    if product.stock is not None and product.kind is not ProductKind.PHYSICAL:
        raise InvalidProduct("Only physical products have stock; leave it out (unlimited).", sku=product.sku)


def create_product(request: ProductCreate) -> Product:
    if request.subscription_days is not None and request.kind is not ProductKind.SUBSCRIPTION:
        raise InvalidProduct("subscription_days applies to subscriptions only.", sku=request.sku)
    data = request.model_dump(exclude_none=True)
    product = Product.model_validate(data)
    _check(product)
    catalog_repository().create(product, index_entry(product))
    return product


def update_product(sku: str, request: ProductUpdate) -> Product:
    """Change the fields the request names, and the product's index items with them (one transaction).

    Orders already placed keep the price they were placed at.
    """
    found = catalog_repository().get_with_state(sku)
    if found is None:
        raise ProductNotFound(sku=sku)
    current, state = found
    changes = {name: getattr(request, name) for name in request.model_fields_set}
    nullable = {"stock"}
    for name, value in changes.items():
        if value is None and name not in nullable:
            raise InvalidProduct(f"'{name}' cannot be null.", sku=sku, field=name)
    merged = Product.model_validate({**current.model_dump(), **changes})
    _check(merged)
    if "subscription_days" in changes and merged.kind is not ProductKind.SUBSCRIPTION:
        raise InvalidProduct("subscription_days applies to subscriptions only.", sku=sku)
    entry = index_entry(merged)
    if not changes and state.rev is not None:
        return current
    # A product stored before the index existed (no index state) is indexed by any change, even an empty one.
    return catalog_repository().update(
        sku, {name: (v.value if isinstance(v, ProductKind) else v) for name, v in changes.items()}, entry, state
    )


def reindex(sku: str) -> Product:
    """Bring one product's index items up to date (the backfill, for products stored before the index)."""
    return update_product(sku, ProductUpdate())


def backfill_index() -> int:
    """Index every product stored before the index existed; how many. A one-off job (it Scans): docs/search.md."""
    count = 0
    for product in catalog_repository().never_indexed():
        for attempt in range(3):
            try:
                reindex(product.sku)
                break
            except ConcurrentModification:  # changed (and so indexed) by an admin write meanwhile: read again
                if attempt == 2:
                    raise
        count += 1
    return count
