"""merchant: a merchant's shop profile, orders and listings (new products and product changes, then reviewed)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from orders.http import CurrentCaller, build_resolver, lambda_entry, requires_role
from orders.logic import listings, merchants
from orders.models.api import (
    ListingCreateRequest,
    ListingList,
    ListingOut,
    ListingUpdateRequest,
    MerchantProfileOut,
    MerchantProfileRequest,
    OrderList,
    OrderOut,
)
from orders.models.common import UtcDateTime
from orders.models.order import OrderStatus
from orders.params import PageCursor, PageLimit, Sku
from orders.roles import Role

router = Router()

MERCHANT = Role.MERCHANT
PROFILE = (
    "`shop_name`, `contact_name`, `contact_phone` (E.164, optional), `support_email`; 404 "
    "`MERCHANT_PROFILE_NOT_FOUND` before the first PUT; every write conditional on the version read"
)
LISTING = (
    "→ 202 a listing (`PENDING_REVIEW`, or `AUTO_REJECTED` by the automatic checks), live only once approved; 409 "
    "`LISTING_ALREADY_OPEN` while another listing of the sku is under review"
)


@router.get("/merchant/profile", summary="My shop's profile (merchant)", description=PROFILE, tags=["merchants"])
@requires_role(MERCHANT)
def get_profile(caller: CurrentCaller) -> MerchantProfileOut:
    return MerchantProfileOut.of(merchants.get_profile(caller.require_merchant()))


@router.put("/merchant/profile", summary="Set my shop's profile (merchant)", description=PROFILE, tags=["merchants"])
@requires_role(MERCHANT)
def put_profile(body: MerchantProfileRequest, caller: CurrentCaller) -> MerchantProfileOut:
    profile = merchants.put_profile(caller.require_merchant(), body, user_id=caller.user_id)
    return MerchantProfileOut.of(profile)


@router.get(
    "/merchant/orders",
    summary="My shop's orders, newest first (merchant)",
    description='`{"items", "next_cursor"}`; another shop\'s order is 404 everywhere',
    tags=["merchants"],
)
@requires_role(MERCHANT)
def list_orders(
    caller: CurrentCaller,
    status: Annotated[OrderStatus | None, Query()] = None,
    from_: Annotated[UtcDateTime | None, Query(alias="from", description="ISO-8601, inclusive")] = None,
    to: Annotated[UtcDateTime | None, Query(description="ISO-8601, inclusive")] = None,
    limit: PageLimit = None,
    cursor: PageCursor = None,
) -> OrderList:
    page = merchants.orders(caller.require_merchant(), status=status, start=from_, end=to, limit=limit, cursor=cursor)
    return OrderList(items=[OrderOut.of(order) for order in page.items], next_cursor=page.next_cursor)


@router.post(
    "/merchant/products",
    summary="Propose a new product: checked, then reviewed (merchant)",
    description=LISTING,
    tags=["merchants"],
    status_code=202,
)
@requires_role(MERCHANT)
def propose_product(body: ListingCreateRequest, caller: CurrentCaller) -> ListingOut:
    listing = listings.submit_new_product(caller.require_merchant(), body, user_id=caller.user_id)
    return ListingOut.of(listing)


@router.patch(
    "/merchant/products/<sku>",
    summary="Propose a change to my product: checked, then reviewed (merchant)",
    description="Any of name, description, price, category, tags, images, active "
    + LISTING
    + "; another merchant's product is 404 `PRODUCT_NOT_FOUND`",
    tags=["merchants"],
    status_code=202,
)
@requires_role(MERCHANT)
def propose_change(sku: Sku, body: ListingUpdateRequest, caller: CurrentCaller) -> ListingOut:
    listing = listings.submit_change(caller.require_merchant(), sku, body, user_id=caller.user_id)
    return ListingOut.of(listing)


@router.get(
    "/merchant/listings",
    summary="My shop's listings, newest first (merchant)",
    description="With their status and reason",
    tags=["merchants"],
)
@requires_role(MERCHANT)
def list_listings(
    caller: CurrentCaller,
    limit: PageLimit = None,
    cursor: PageCursor = None,
) -> ListingList:
    page = listings.merchant_listings(caller.require_merchant(), limit=limit, cursor=cursor)
    return ListingList(items=[ListingOut.of(listing) for listing in page.items], next_cursor=page.next_cursor)


app = build_resolver(router)
lambda_handler = lambda_entry(app)
