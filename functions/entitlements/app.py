"""entitlements: ``GET /me/entitlements``, what the caller holds of virtual goods and subscriptions."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router

from orders.http import CurrentCaller, build_resolver, lambda_entry
from orders.logic import fulfilment
from orders.models.api import EntitlementList

router = Router()


@router.get(
    "/me/entitlements",
    summary="My entitlements",
    description="Virtual goods and subscriptions granted",
    tags=["fulfilment"],
)
def my_entitlements(caller: CurrentCaller) -> EntitlementList:
    return EntitlementList(items=fulfilment.my_entitlements(caller.user_id))


app = build_resolver(router)
lambda_handler = lambda_entry(app)
