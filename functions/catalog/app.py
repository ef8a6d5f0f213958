"""catalog: ``GET /products`` and ``GET /products/{sku}`` (public, no token needed)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router

from orders.http import build_resolver, lambda_entry
from orders.logic import catalog
from orders.models.api import ProductList, ProductOut
from orders.params import Sku

router = Router()


@router.get("/products", summary="Products on sale", tags=["catalog"])
def list_products() -> ProductList:
    return ProductList(items=[ProductOut.of(product) for product in catalog.list_products()])


@router.get("/products/<sku>", summary="One product", tags=["catalog"])
def get_product(sku: Sku) -> ProductOut:
    return ProductOut.of(catalog.get_product(sku))


app = build_resolver(router)
lambda_handler = lambda_entry(app)
