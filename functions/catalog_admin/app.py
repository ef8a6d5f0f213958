"""catalog-admin: ops create products and change them (price, description, kind, stock, active)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router

from orders.http import CurrentCaller, build_resolver, lambda_entry, requires_role
from orders.logic import catalog
from orders.models.api import ProductAdminOut, ProductCreate, ProductUpdate
from orders.params import Sku
from orders.roles import Role

CHANGE = (
    "Price, stock, active, merchant, category, tags, ...: the product, its keyword items and the category counts "
    "change in one transaction (409 `CONCURRENT_MODIFICATION` if another change came first)"
)

router = Router()


@router.post("/products", summary="Create a product (ops)", description=CHANGE, tags=["catalog"], status_code=201)
@requires_role(Role.OPS)
def create_product(body: ProductCreate, caller: CurrentCaller) -> ProductAdminOut:
    return ProductAdminOut.of(catalog.create_product(body))


@router.patch("/products/<sku>", summary="Change a product (ops)", description=CHANGE, tags=["catalog"])
@requires_role(Role.OPS)
def update_product(sku: Sku, body: ProductUpdate, caller: CurrentCaller) -> ProductAdminOut:
    return ProductAdminOut.of(catalog.update_product(sku, body))


app = build_resolver(router)
lambda_handler = lambda_entry(app)
