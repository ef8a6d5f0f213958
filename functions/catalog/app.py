"""catalog: ``GET /products`` and ``GET /products/{sku}`` (public, no token needed)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path

from orders.http import build_resolver, lambda_entry
from orders.logic import catalog
from orders.models.api import ProductList, ProductOut

router = Router()


@router.get("/products", summary="Products on sale", tags=["catalog"])
def list_products() -> ProductList:
    return ProductList(items=[ProductOut.of(product) for product in catalog.list_products()])


@router.get("/products/<sku>", summary="One product", tags=["catalog"])
def get_product(sku: Annotated[str, Path(min_length=1, max_length=64)]) -> ProductOut:
    return ProductOut.of(catalog.get_product(sku))


app = build_resolver(router)
lambda_handler = lambda_entry(app)
