"""Reading the catalog."""

from __future__ import annotations

from orders.dal.repos import catalog_repository
from orders.errors import ProductNotFound
from orders.models.catalog import Product


def list_products() -> list[Product]:
    """Products on sale. Inactive ones stay readable by sku, for old orders and app caches."""
    return [product for product in catalog_repository().list_all() if product.active]


def get_product(sku: str) -> Product:
    product = catalog_repository().get(sku)
    if product is None:
        raise ProductNotFound(sku=sku)
    return product
