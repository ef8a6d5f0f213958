"""refund-review: the reviewer queue, a user's refund history, and decisions (which resume the workflow)."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from orders.http import CurrentCaller, build_resolver, lambda_entry, requires_role
from orders.logic import refunds
from orders.models.api import DecisionRequest, RefundList, RefundOut
from orders.params import PageCursor, PageLimit, RefundId, UserId
from orders.roles import Role

router = Router()

REVIEWER = Role.REVIEWER


@router.get("/refunds", summary="Refunds awaiting review, the one due first first (reviewers)", tags=["refunds"])
@requires_role(REVIEWER)
def review_queue(
    caller: CurrentCaller,
    status: Annotated[Literal["PENDING_REVIEW"], Query(examples=["PENDING_REVIEW"])],
    limit: PageLimit = None,
    cursor: PageCursor = None,
) -> RefundList:
    page = refunds.review_queue(limit=limit, cursor=cursor)
    return RefundList(items=[RefundOut.of(refund) for refund in page.items], next_cursor=page.next_cursor)


@router.get(
    "/users/<user_id>/refunds",
    summary="A user's refunds, newest first (reviewers)",
    description="The history behind a request",
    tags=["refunds"],
)
@requires_role(REVIEWER)
def refunds_of_user(user_id: UserId, caller: CurrentCaller, limit: PageLimit = None) -> RefundList:
    return RefundList(items=[RefundOut.of(refund) for refund in refunds.refunds_of_user(user_id, limit=limit)])


@router.post(
    "/refunds/<refund_id>/decision",
    summary="Approve or reject a refund (reviewers; never on one's own order)",
    description='`{"decision": "approve" | "reject", "note"?}` → 200 the refund; 403 `OWN_ORDER_REVIEW`; 409 '
    "`REFUND_ALREADY_DECIDED`, `REVIEW_EXPIRED`, `REVIEW_NOT_OPEN`",
    tags=["refunds"],
)
@requires_role(REVIEWER)
def decide(refund_id: RefundId, body: DecisionRequest, caller: CurrentCaller) -> RefundOut:
    decided = refunds.decide(refund_id, reviewer_id=caller.user_id, decision=body.decision, note=body.note or None)
    return RefundOut.of(decided)


app = build_resolver(router)
lambda_handler = lambda_entry(app)
