"""Reading the catalog, and administering it (ops)."""

from __future__ import annotations

from orders.dal.repos import catalog_repository
from orders.errors import InvalidProduct, ProductNotFound
from orders.models.api import ProductCreate, ProductUpdate
from orders.models.catalog import Product, ProductKind


def list_products() -> list[Product]:
    """Products on sale. Inactive ones stay readable by sku, for old orders and app caches."""
    return [product for product in catalog_repository().list_all() if product.active]


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
    catalog_repository().create(product)
    return product


def update_product(sku: str, request: ProductUpdate) -> Product:
    """Change the fields the request names. Orders already placed keep the price they were placed at."""
    current = get_product(sku)
    changes = {name: getattr(request, name) for name in request.model_fields_set}
    nullable = {"stock"}
    for name, value in changes.items():
        if value is None and name not in nullable:
            raise InvalidProduct(f"'{name}' cannot be null.", sku=sku, field=name)
    merged = Product.model_validate({**current.model_dump(), **changes})
    _check(merged)
    if "subscription_days" in changes and merged.kind is not ProductKind.SUBSCRIPTION:
        raise InvalidProduct("subscription_days applies to subscriptions only.", sku=sku)
    if not changes:
        return current
    return catalog_repository().update(
        sku, {name: (v.value if isinstance(v, ProductKind) else v) for name, v in changes.items()}
    )
