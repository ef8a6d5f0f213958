"""listing-review: the reviewers' queue of listings and their decisions (which resume the listing workflow)."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from orders.http import CurrentCaller, build_resolver, lambda_entry, requires_role
from orders.logic import listings
from orders.models.api import DecisionRequest, ListingList, ListingOut
from orders.params import PageCursor, PageLimit
from orders.roles import Role

router = Router()

ListingId = Annotated[str, Path(min_length=1, max_length=80, examples=["lst_north-loom_019ab1c2d3e4a1b2c3"])]
REVIEWER = Role.REVIEWER


@router.get("/listings", summary="Listings awaiting review, the one due first first (reviewer)", tags=["listings"])
@requires_role(REVIEWER)
def review_queue(
    caller: CurrentCaller,
    status: Annotated[Literal["PENDING_REVIEW"], Query(examples=["PENDING_REVIEW"])],
    limit: PageLimit = None,
    cursor: PageCursor = None,
) -> ListingList:
    page = listings.review_queue(limit=limit, cursor=cursor)
    return ListingList(items=[ListingOut.of(listing) for listing in page.items], next_cursor=page.next_cursor)


@router.post(
    "/listings/<listing_id>/decision",
    summary="Approve (on sale at once) or reject a listing (reviewer)",
    description='`{"decision": "approve" | "reject", "note"?}`; 403 `OWN_LISTING_REVIEW`; 409 '
    "`LISTING_ALREADY_DECIDED`, `LISTING_REVIEW_EXPIRED`",
    tags=["listings"],
)
@requires_role(REVIEWER)
def decide(listing_id: ListingId, body: DecisionRequest, caller: CurrentCaller) -> ListingOut:
    decided = listings.decide(
        listing_id,
        reviewer_id=caller.user_id,
        reviewer_merchant=caller.merchant_id,
        decision=body.decision,
        note=body.note or None,
    )
    return ListingOut.of(decided)


app = build_resolver(router)
lambda_handler = lambda_entry(app)
