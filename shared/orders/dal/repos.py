"""Repositories bound to the configured tables, made once per execution environment."""

from __future__ import annotations

from orders.cache import per_environment
from orders.config import get_config
from orders.dal.aftersales import AfterSalesRepository
from orders.dal.catalog import CatalogRepository
from orders.dal.entitlements import EntitlementsRepository
from orders.dal.orders import OrdersRepository
from orders.dal.outbox import OutboxRepository
from orders.dal.payments import PaymentsRepository
from orders.dal.refunds import RefundsRepository
from orders.dal.reports import ReportsRepository
from orders.dal.users import UsersRepository
from orders.dal.workflow import RefundWorkflow


@per_environment
def orders_repository() -> OrdersRepository:
    return OrdersRepository(get_config().table("orders_table"))


@per_environment
def catalog_repository() -> CatalogRepository:
    return CatalogRepository(get_config().table("catalog_table"))


@per_environment
def users_repository() -> UsersRepository:
    return UsersRepository(get_config().table("orders_table"))


@per_environment
def outbox_repository() -> OutboxRepository:
    return OutboxRepository(get_config().table("orders_table"))


@per_environment
def payments_repository() -> PaymentsRepository:
    return PaymentsRepository(get_config().table("orders_table"))


def entitlements_repository() -> EntitlementsRepository:
    return EntitlementsRepository(get_config().table("orders_table"))


@per_environment
def aftersales_repository() -> AfterSalesRepository:
    return AfterSalesRepository(get_config().table("orders_table"))


def refunds_repository() -> RefundsRepository:
    return RefundsRepository(get_config().table("orders_table"))


@per_environment
def refund_workflow() -> RefundWorkflow:
    arn = get_config().refund_state_machine_arn
    if not arn:
        raise RuntimeError("REFUND_STATE_MACHINE_ARN is not set in this function's environment")
    return RefundWorkflow(arn)


@per_environment
def reports_repository() -> ReportsRepository:
    return ReportsRepository(get_config().table("orders_table"))
