"""Repositories bound to the configured tables, made once per execution environment.

Each repository module is imported by its factory, on first use: a function imports only the
adapters (and the models they use) that its requests need (cold start, bench/cold_start.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orders.cache import per_environment
from orders.config import get_config

if TYPE_CHECKING:
    from orders.dal.aftersales import AfterSalesRepository
    from orders.dal.cart import CartRepository
    from orders.dal.catalog import CatalogRepository
    from orders.dal.entitlements import EntitlementsRepository
    from orders.dal.merchants import MerchantsRepository
    from orders.dal.orders import OrdersRepository
    from orders.dal.outbox import OutboxRepository
    from orders.dal.payments import PaymentsRepository
    from orders.dal.refunds import RefundsRepository
    from orders.dal.reports import ReportsRepository
    from orders.dal.tracking import TrackingRepository
    from orders.dal.users import UsersRepository
    from orders.dal.workflow import ReviewWorkflow
    from orders.logic.search import ProductSearch


@per_environment
def orders_repository() -> OrdersRepository:
    from orders.dal.orders import OrdersRepository

    return OrdersRepository(get_config().table("orders_table"))


@per_environment
def catalog_repository() -> CatalogRepository:
    from orders.dal.catalog import CatalogRepository

    return CatalogRepository(get_config().table("catalog_table"))


@per_environment
def users_repository() -> UsersRepository:
    from orders.dal.users import UsersRepository

    return UsersRepository(get_config().table("orders_table"))


@per_environment
def outbox_repository() -> OutboxRepository:
    from orders.dal.outbox import OutboxRepository

    return OutboxRepository(get_config().table("orders_table"))


@per_environment
def payments_repository() -> PaymentsRepository:
    from orders.dal.payments import PaymentsRepository

    return PaymentsRepository(get_config().table("orders_table"))


def entitlements_repository() -> EntitlementsRepository:
    from orders.dal.entitlements import EntitlementsRepository

    return EntitlementsRepository(get_config().table("orders_table"))


@per_environment
def aftersales_repository() -> AfterSalesRepository:
    from orders.dal.aftersales import AfterSalesRepository

    return AfterSalesRepository(get_config().table("orders_table"))


@per_environment
def tracking_repository() -> TrackingRepository:
    from orders.dal.tracking import TrackingRepository

    return TrackingRepository(get_config().table("orders_table"))


def refunds_repository() -> RefundsRepository:
    from orders.dal.refunds import RefundsRepository

    return RefundsRepository(get_config().table("orders_table"))


def _review_workflow(arn: str | None, variable: str) -> ReviewWorkflow:
    from orders.dal.workflow import ReviewWorkflow

    if not arn:
        raise RuntimeError(f"{variable} is not set in this function's environment")
    return ReviewWorkflow(arn)


@per_environment
def refund_workflow() -> ReviewWorkflow:
    return _review_workflow(get_config().refund_state_machine_arn, "REFUND_STATE_MACHINE_ARN")


@per_environment
def reports_repository() -> ReportsRepository:
    from orders.dal.reports import ReportsRepository

    return ReportsRepository(get_config().table("orders_table"))


@per_environment
def cart_repository() -> CartRepository:
    from orders.dal.cart import CartRepository

    return CartRepository(get_config().table("orders_table"))


@per_environment
def merchants_repository() -> MerchantsRepository:
    from orders.dal.merchants import MerchantsRepository

    return MerchantsRepository(get_config().table("orders_table"))


@per_environment
def listing_workflow() -> ReviewWorkflow:
    return _review_workflow(get_config().listing_state_machine_arn, "LISTING_STATE_MACHINE_ARN")


@per_environment
def product_search() -> ProductSearch:
    from orders.dal.catalog_search import DynamoProductSearch

    return DynamoProductSearch(catalog_repository())
