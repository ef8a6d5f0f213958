"""The refund workflow end to end on moto: the real handlers behind the API and behind the
state machine's Lambda tasks, the real definition (statemachines/refund.asl.json)."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from local_stack.fake_refunds import substituted
from local_stack.runtime import LambdaRuntime
from orders.dal.repos import orders_repository
from orders.lifecycle import Action
from orders.logic import transitions
from tests.conftest import FAKE_AWS_ENV, api_event
from tests.integration.conftest import REFS, Api
from tests.integration.stepfunctions import Workflows, workflow_refs, workflows

OWNER = "user-0001"
REVIEWER = "reviewer-0001"
SHIRT = {
    "items": [{"sku": "tshirt-logo-m", "quantity": 1}],
    "shipping_address": {"name": "Ada", "line1": "1 Row", "city": "London", "postal_code": "N1", "country": "GB"},
}  # 2500 + 500 shipping = 3000 USD cents: above the auto-approve threshold
COINS = {"items": [{"sku": "coins-500", "quantity": 1}]}  # 499: auto-approved
SM = "RefundStateMachine"


# --- fixtures -------------------------------------------------------------------------------
@pytest.fixture
def review_timeout() -> str:
    return "172800"


@pytest.fixture
def runtime(aws: None, review_timeout: str) -> LambdaRuntime:
    refs = REFS | workflow_refs() | {"RefundReviewTimeoutSeconds": review_timeout}
    return LambdaRuntime(refs, base_env=FAKE_AWS_ENV)


@pytest.fixture
def flows(runtime: LambdaRuntime) -> Iterator[Workflows]:
    from orders.dal.workflow import sfn_client

    sfn_client.cache_clear()
    # The provider refuses or fails on cue ([fake:fail], [fake:transient=N] in the reason).
    with substituted(), workflows(runtime, REFS | workflow_refs()) as deployed:
        yield deployed
        _drain(deployed)
    sfn_client.cache_clear()


def _drain(flows: Workflows) -> None:
    """End executions still waiting for a reviewer, so none outlives the test's mock."""
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    for item in ddb.scan(TableName="OrdersTable", FilterExpression="attribute_exists(task_token)")["Items"]:
        with contextlib.suppress(Exception):
            flows.sfn.send_task_failure(taskToken=item["task_token"]["S"], error="TestTeardown")
    for execution in flows.executions(SM):
        with contextlib.suppress(AssertionError):
            flows.wait(execution["executionArn"], timeout=10)


# --- helpers --------------------------------------------------------------------------------
def paid_order(api: Api, runtime: LambdaRuntime, body: dict[str, Any] = SHIRT, user: str = OWNER) -> dict[str, Any]:
    event = api_event("create_order", body=body, user=user)
    event["headers"].pop("Idempotency-Key")
    event["multiValueHeaders"].pop("Idempotency-Key")
    created = api(event)
    assert created.status == 201, created.body
    with runtime._lock:  # stand-in for the payment webhook: the same conditional transition
        runtime._enter("OrdersFunction")
        transitions.change(orders_repository(), created.body["order_id"], Action.PAYMENT_SUCCEEDED, actor="test:pay")
    return created.body  # type: ignore[no-any-return]


def request(api: Api, order_id: str, *, amount: int | None = None, reason: str = "torn", user: str = OWNER) -> Any:
    body: dict[str, Any] = {"reason": reason}
    if amount is not None:
        body["amount"] = amount
    return api(api_event("refund_request_request_refund", user=user, body=body, path_params={"order_id": order_id}))


def get_refund(api: Api, refund_id: str, user: str = OWNER) -> dict[str, Any]:
    response = api(api_event("refund_request_get_refund", user=user, path_params={"refund_id": refund_id}))
    assert response.status == 200, response.body
    return response.body  # type: ignore[no-any-return]


def get_order(api: Api, order_id: str) -> dict[str, Any]:
    return api(api_event("orders_get_order", path_params={"order_id": order_id})).body  # type: ignore[no-any-return]


def timeline(api: Api, order_id: str) -> list[dict[str, Any]]:
    return api(api_event("orders_get_timeline", path_params={"order_id": order_id})).body["items"]  # type: ignore[no-any-return]


def queue(api: Api, user: str = REVIEWER, groups: tuple[str, ...] = ("reviewer",)) -> Any:
    return api(api_event("refund_review_review_queue", user=user, groups=groups, query={"status": "PENDING_REVIEW"}))


def decide(
    api: Api, refund_id: str, decision: str, user: str = REVIEWER, groups: tuple[str, ...] = ("reviewer",)
) -> Any:
    body = {"decision": decision, "note": f"{decision} by {user}"}
    return api(
        api_event("refund_review_decide", user=user, groups=groups, body=body, path_params={"refund_id": refund_id})
    )


def wait_until(check: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def awaiting_review(api: Api, refund_id: str) -> None:
    """The review task has stored its token: the refund is in the reviewer queue."""
    wait_until(lambda: refund_id in [r["refund_id"] for r in queue(api).body["items"]])


def finished(flows: Workflows, refund_id: str, timeout: float = 30.0) -> dict[str, Any]:
    return flows.wait(flows.execution_arn(SM, refund_id), timeout=timeout)


# --- approve / reject --------------------------------------------------------------------------
def test_approve_path_refunds_and_records_every_step(api: Api, runtime: LambdaRuntime, flows: Workflows) -> None:
    # Given a paid order and a refund request above the auto-approve threshold
    order = paid_order(api, runtime)
    response = request(api, order["order_id"], amount=1500)
    assert response.status == 202, response.body
    refund = response.body
    assert refund["status"] == "PENDING_REVIEW"
    assert refund["review_due_at"] is not None
    assert "task_token" not in refund
    # When a reviewer finds it in the queue and approves it
    awaiting_review(api, refund["refund_id"])
    decided = decide(api, refund["refund_id"], "approve")
    assert decided.status == 200, decided.body
    assert decided.body["decided_by"] == f"reviewer:{REVIEWER}"
    # Then the workflow refunds at the provider and books it
    assert finished(flows, refund["refund_id"])["status"] == "SUCCEEDED"
    final = get_refund(api, refund["refund_id"])
    assert final["status"] == "SUCCEEDED"
    assert final["provider_refund_id"] == f"fake_re_{refund['refund_id']}"
    after = get_order(api, order["order_id"])
    assert (after["status"], after["refunded_total"]) == ("PAID", 1500)
    types = [event["type"] for event in timeline(api, order["order_id"])]
    assert types[-4:] == ["REFUND_REQUESTED", "REFUND_REVIEW_STARTED", "REFUND_APPROVED", "REFUND_SUCCEEDED"]
    assert queue(api).body["items"] == []
    # And the execution went through exactly these states (one state transition each)
    states = flows.states_entered(flows.execution_arn(SM, refund["refund_id"]))
    print(f"\napprove path: {len(states)} state transitions: {' -> '.join(states)}")
    assert states == [
        "OpenReview",
        "AutoApproved?",
        "AwaitReview",
        "Decision?",
        "ExecuteRefund",
        "Finalize",
        "Refunded",
    ]


def test_auto_approve_path_skips_review(api: Api, runtime: LambdaRuntime, flows: Workflows) -> None:
    # Given a paid order of 499 (at most the auto-approve threshold)
    order = paid_order(api, runtime, COINS)
    # When the owner asks for everything back
    response = request(api, order["order_id"])
    # Then it is approved by the system and refunded without a reviewer
    assert response.status == 202, response.body
    assert (response.body["status"], response.body["decided_by"], response.body["amount"]) == (
        "APPROVED",
        "system:auto",
        499,
    )
    assert finished(flows, response.body["refund_id"])["status"] == "SUCCEEDED"
    assert get_refund(api, response.body["refund_id"])["status"] == "SUCCEEDED"
    after = get_order(api, order["order_id"])
    assert (after["status"], after["refunded_total"]) == ("REFUNDED", 499)
    events = timeline(api, order["order_id"])
    assert [e["type"] for e in events][-3:] == ["REFUND_REQUESTED", "REFUND_APPROVED", "REFUND_SUCCEEDED"]
    assert events[-2]["actor"] == "system:auto"
    assert (events[-1]["from_status"], events[-1]["to_status"]) == ("PAID", "REFUNDED")
    states = flows.states_entered(flows.execution_arn(SM, response.body["refund_id"]))
    print(f"\nauto-approve path: {len(states)} state transitions: {' -> '.join(states)}")
    assert states == ["OpenReview", "AutoApproved?", "ExecuteRefund", "Finalize", "Refunded"]


def test_reject_releases_the_reservation(api: Api, runtime: LambdaRuntime, flows: Workflows) -> None:
    order = paid_order(api, runtime)
    refund = request(api, order["order_id"], amount=2000).body
    awaiting_review(api, refund["refund_id"])
    # When the reviewer rejects it
    decided = decide(api, refund["refund_id"], "reject")
    # Then nothing is refunded and the amount can be asked for again
    assert decided.status == 200, decided.body
    assert decided.body["status"] == "REJECTED"
    assert finished(flows, refund["refund_id"])["status"] == "SUCCEEDED"
    assert get_refund(api, refund["refund_id"])["status"] == "REJECTED"
    assert get_order(api, order["order_id"])["refunded_total"] == 0
    assert timeline(api, order["order_id"])[-1]["type"] == "REFUND_REJECTED"
    assert queue(api).body["items"] == []
    assert request(api, order["order_id"], amount=3000).status == 202


@pytest.mark.parametrize("review_timeout", ["2"])
def test_review_deadline_expiry_applies_the_timeout_action(api: Api, runtime: LambdaRuntime, flows: Workflows) -> None:
    # Given a refund waiting for review with a 2 s deadline
    order = paid_order(api, runtime)
    refund = request(api, order["order_id"], amount=1500).body
    awaiting_review(api, refund["refund_id"])
    # When nobody decides in time
    assert finished(flows, refund["refund_id"], timeout=30)["status"] == "SUCCEEDED"
    # Then the system approved it (default action) and the refund went through
    final = get_refund(api, refund["refund_id"])
    assert (final["status"], final["decided_by"]) == ("SUCCEEDED", "system:timeout")
    types = [e["type"] for e in timeline(api, order["order_id"])]
    assert types[-3:] == ["REFUND_REVIEW_STARTED", "REFUND_APPROVED", "REFUND_SUCCEEDED"]
    # And a late reviewer is told the review expired
    late = decide(api, refund["refund_id"], "reject")
    assert (late.status, late.body["code"]) == (409, "REVIEW_EXPIRED")
    states = flows.states_entered(flows.execution_arn(SM, refund["refund_id"]))
    assert "RecordTimeout" in states


# --- failures -----------------------------------------------------------------------------------
def test_provider_refusal_ends_failed_and_visible(api: Api, runtime: LambdaRuntime, flows: Workflows) -> None:
    order = paid_order(api, runtime)
    refund = request(api, order["order_id"], amount=1500, reason="broken [fake:fail]").body
    awaiting_review(api, refund["refund_id"])
    assert decide(api, refund["refund_id"], "approve").status == 200
    # Then the execution fails, the refund says why, and the reservation is released
    assert finished(flows, refund["refund_id"])["status"] == "FAILED"
    final = get_refund(api, refund["refund_id"])
    assert final["status"] == "FAILED"
    assert final["failure_cause"].startswith("PermanentProviderError: charge_not_refundable")
    events = timeline(api, order["order_id"])
    assert events[-1]["type"] == "REFUND_FAILED"
    assert get_order(api, order["order_id"])["refunded_total"] == 0
    assert request(api, order["order_id"], amount=1500).status == 202


def test_transient_provider_errors_are_retried(api: Api, runtime: LambdaRuntime, flows: Workflows) -> None:
    order = paid_order(api, runtime)
    refund = request(api, order["order_id"], amount=1500, reason="late [fake:transient=2]").body
    awaiting_review(api, refund["refund_id"])
    assert decide(api, refund["refund_id"], "approve").status == 200
    done = finished(flows, refund["refund_id"], timeout=30)
    assert done["status"] == "SUCCEEDED", (done.get("error"), done.get("cause"))
    assert get_refund(api, refund["refund_id"])["status"] == "SUCCEEDED"
    assert get_order(api, order["order_id"])["refunded_total"] == 1500
    history = flows.history(flows.execution_arn(SM, refund["refund_id"]))
    failed = [e for e in history if e["type"] == "TaskFailed"]
    assert [e["taskFailedEventDetails"]["error"] for e in failed] == ["TransientProviderError"] * 2


# --- decisions ------------------------------------------------------------------------------------
def test_the_same_decision_twice_is_a_conflict(api: Api, runtime: LambdaRuntime, flows: Workflows) -> None:
    order = paid_order(api, runtime)
    refund = request(api, order["order_id"], amount=1500).body
    awaiting_review(api, refund["refund_id"])
    assert decide(api, refund["refund_id"], "approve").status == 200
    again = decide(api, refund["refund_id"], "approve")
    assert (again.status, again.body["code"]) == (409, "REFUND_ALREADY_DECIDED")
    assert finished(flows, refund["refund_id"])["status"] == "SUCCEEDED"
    assert get_order(api, order["order_id"])["refunded_total"] == 1500


def test_two_reviewers_at_once_exactly_one_wins(api: Api, runtime: LambdaRuntime, flows: Workflows) -> None:
    from orders.logic import refunds
    from orders.models.refund import Decision

    order = paid_order(api, runtime)
    refund = request(api, order["order_id"], amount=1500).body
    awaiting_review(api, refund["refund_id"])
    # When two reviewers decide at the same instant (both past the reads before either writes)
    barrier, local, dynamodb_serialises = threading.Barrier(2), threading.local(), threading.Lock()
    results: dict[str, Any] = {}
    original = refunds._record_decision

    def racing(*args: Any, **kwargs: Any) -> Any:
        if not getattr(local, "raced", False):  # a retry after losing goes straight on
            local.raced = True
            barrier.wait(timeout=5)
        # moto checks a transaction's conditions and applies it without a lock, so two threads
        # can interleave inside it; DynamoDB serialises writes to an item. Model that here: both
        # reviewers have read PENDING_REVIEW, their conditional writes then land one after the other.
        with dynamodb_serialises:
            return original(*args, **kwargs)

    def reviewer(name: str, decision: Decision) -> None:
        try:
            results[name] = refunds.decide(refund["refund_id"], reviewer_id=name, decision=decision, note=None)
        except Exception as exc:
            results[name] = exc

    # (holding the runtime's lock keeps the resumed workflow's steps from swapping the environment mid-race)
    with runtime._lock, pytest.MonkeyPatch.context() as mp:
        runtime._enter("RefundReviewFunction")
        # boto3 client creation is not thread-safe (Lambda has one thread): make them up front
        from orders.dal.repos import refund_workflow, refunds_repository

        _ = orders_repository().client, refunds_repository().client, refund_workflow().client
        mp.setattr(refunds, "_record_decision", racing)
        threads = [
            threading.Thread(target=reviewer, args=("rev-a", Decision.APPROVE)),
            threading.Thread(target=reviewer, args=("rev-b", Decision.REJECT)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=20)
    # Then exactly one decision is recorded; the other reviewer is told it was already decided
    winners = [name for name, result in results.items() if not isinstance(result, Exception)]
    losers = [result for result in results.values() if isinstance(result, Exception)]
    assert len(winners) == 1, results
    assert [getattr(loser, "code", repr(loser)) for loser in losers] == ["REFUND_ALREADY_DECIDED"]
    finished(flows, refund["refund_id"])
    final = get_refund(api, refund["refund_id"])
    assert final["decided_by"] == f"reviewer:{winners[0]}"
    decisions = [e for e in timeline(api, order["order_id"]) if e["type"] in ("REFUND_APPROVED", "REFUND_REJECTED")]
    assert len(decisions) == 1


def test_a_reviewer_cannot_decide_a_refund_of_their_own_order(
    api: Api, runtime: LambdaRuntime, flows: Workflows
) -> None:
    order = paid_order(api, runtime, user=REVIEWER)
    refund = request(api, order["order_id"], amount=1500, user=REVIEWER).body
    awaiting_review(api, refund["refund_id"])
    response = decide(api, refund["refund_id"], "approve", user=REVIEWER)
    assert (response.status, response.body["code"]) == (403, "OWN_ORDER_REVIEW")
    assert get_refund(api, refund["refund_id"], user=REVIEWER)["status"] == "PENDING_REVIEW"


def test_only_reviewers_see_the_queue_and_decide(api: Api, runtime: LambdaRuntime, flows: Workflows) -> None:
    order = paid_order(api, runtime)
    refund = request(api, order["order_id"], amount=1500).body
    awaiting_review(api, refund["refund_id"])
    assert queue(api, user="someone", groups=()).status == 403
    assert queue(api, user="support-1", groups=("support",)).status == 403
    response = decide(api, refund["refund_id"], "approve", user="someone", groups=("support",))
    assert (response.status, response.body["code"]) == (403, "FORBIDDEN")
    assert get_refund(api, refund["refund_id"])["status"] == "PENDING_REVIEW"
    # And another user cannot read the refund at all
    other = api(api_event("refund_request_get_refund", user="someone", path_params={"refund_id": refund["refund_id"]}))
    assert (other.status, other.body["code"]) == (404, "REFUND_NOT_FOUND")


def test_queue_lists_oldest_due_first(api: Api, runtime: LambdaRuntime, flows: Workflows) -> None:
    first = request(api, paid_order(api, runtime)["order_id"], amount=1500).body
    second = request(api, paid_order(api, runtime)["order_id"], amount=1500).body
    awaiting_review(api, second["refund_id"])
    awaiting_review(api, first["refund_id"])
    items = queue(api).body["items"]
    assert [r["refund_id"] for r in items] == [first["refund_id"], second["refund_id"]]
    page = api(
        api_event(
            "refund_review_review_queue",
            user=REVIEWER,
            groups=("reviewer",),
            query={"status": "PENDING_REVIEW", "limit": "1"},
        )
    ).body
    assert [r["refund_id"] for r in page["items"]] == [first["refund_id"]]
    assert page["next_cursor"]


# --- request validation ----------------------------------------------------------------------------
def test_amount_must_be_positive_and_within_what_is_refundable(
    api: Api, runtime: LambdaRuntime, flows: Workflows
) -> None:
    order = paid_order(api, runtime)
    for amount in (3001, 0, -5):
        response = request(api, order["order_id"], amount=amount)
        assert (response.status, response.body["code"]) == (422, "REFUND_AMOUNT_INVALID"), amount
    assert flows.executions(SM) == []


def test_a_second_refund_while_one_is_pending_is_refused(api: Api, runtime: LambdaRuntime, flows: Workflows) -> None:
    order = paid_order(api, runtime)
    assert request(api, order["order_id"], amount=1500).status == 202
    second = request(api, order["order_id"], amount=100)
    assert (second.status, second.body["code"]) == (409, "REFUND_ALREADY_PENDING")
    assert len(flows.executions(SM)) == 1


def test_concurrent_requests_cannot_both_reserve(api: Api, runtime: LambdaRuntime, flows: Workflows) -> None:
    from orders.config import get_config
    from orders.dal.repos import refunds_repository
    from orders.errors import ConcurrentModification
    from orders.logic.refunds import plan_request
    from orders.models.common import utcnow

    order_id = paid_order(api, runtime)["order_id"]
    with runtime._lock:
        runtime._enter("RefundRequestFunction")
        # Given two requests that both read the order before either wrote
        order = orders_repository().get(order_id)
        assert order is not None
        plans = [plan_request(order, amount=2000, reason="x", now=utcnow(), config=get_config()) for _ in range(2)]
        # When both write, the second write is refused by the order's version check
        refund, after, event = plans[0]
        orders_repository().save_change(order, after, event, extra=[refunds_repository().put_new(refund)])
        refund, after, event = plans[1]
        with pytest.raises(ConcurrentModification):
            orders_repository().save_change(order, after, event, extra=[refunds_repository().put_new(refund)])
        stored = orders_repository().get(order_id)
    assert stored is not None
    assert (stored.refund_pending_id, stored.refund_pending_amount) == (plans[0][0].refund_id, 2000)


def test_partial_then_full_refund(api: Api, runtime: LambdaRuntime, flows: Workflows) -> None:
    order = paid_order(api, runtime)
    # A partial refund keeps the status and raises the refunded total
    first = request(api, order["order_id"], amount=1000).body  # auto-approved (≤ 1000)
    assert finished(flows, first["refund_id"])["status"] == "SUCCEEDED"
    partial = get_order(api, order["order_id"])
    assert (partial["status"], partial["refunded_total"]) == ("PAID", 1000)
    # The rest (default amount: all still refundable) needs review and ends REFUNDED
    rest = request(api, order["order_id"]).body
    assert rest["amount"] == 2000
    awaiting_review(api, rest["refund_id"])
    assert decide(api, rest["refund_id"], "approve").status == 200
    assert finished(flows, rest["refund_id"])["status"] == "SUCCEEDED"
    full = get_order(api, order["order_id"])
    assert (full["status"], full["refunded_total"]) == ("REFUNDED", 3000)
    listed = api(api_event("refund_request_list_order_refunds", path_params={"order_id": order["order_id"]})).body
    assert [(r["amount"], r["status"]) for r in listed["items"]] == [(1000, "SUCCEEDED"), (2000, "SUCCEEDED")]
    # Nothing is left to refund
    again = request(api, order["order_id"], amount=1)
    assert (again.status, again.body["code"]) == (409, "ORDER_NOT_REFUNDABLE")


def test_unpaid_or_foreign_orders_cannot_be_refunded(api: Api, runtime: LambdaRuntime, flows: Workflows) -> None:
    event = api_event("create_order", body=COINS)
    event["headers"].pop("Idempotency-Key")
    event["multiValueHeaders"].pop("Idempotency-Key")
    unpaid = api(event).body
    response = request(api, unpaid["order_id"])
    assert (response.status, response.body["code"]) == (409, "ORDER_NOT_REFUNDABLE")
    paid = paid_order(api, runtime)
    foreign = request(api, paid["order_id"], user="someone-else")
    assert (foreign.status, foreign.body["code"]) == (404, "ORDER_NOT_FOUND")
    unknown = api(api_event("refund_request_get_refund", path_params={"refund_id": "rf_nope"}))
    assert unknown.status == 404


def test_three_small_refunds_of_one_order_do_not_all_skip_review(
    api: Api, runtime: LambdaRuntime, flows: Workflows
) -> None:
    # Given a paid order of 3000 and a first small refund approved by policy
    order = paid_order(api, runtime)
    first = request(api, order["order_id"], amount=1000).body
    assert first["decided_by"] == "system:auto"
    assert finished(flows, first["refund_id"])["status"] == "SUCCEEDED"
    # When a second small one follows, the running total (2000) is over the limit
    second = request(api, order["order_id"], amount=1000).body
    # Then it waits for a reviewer
    assert (second["status"], second["decided_by"]) == ("PENDING_REVIEW", None)


def test_a_user_past_the_rolling_auto_approve_limit_is_reviewed(
    api: Api, runtime: LambdaRuntime, flows: Workflows
) -> None:
    runtime.override_environment("RefundRequestFunction", AUTO_APPROVE_USER_MAX_MINOR="600")
    # Given one small refund approved by policy for this user
    one, two = paid_order(api, runtime, COINS), paid_order(api, runtime, COINS)
    first = request(api, one["order_id"]).body
    assert first["decided_by"] == "system:auto"
    # When the same user asks for another within the window (499 + 499 > 600)
    second = request(api, two["order_id"]).body
    # Then that one is reviewed, though it is small on its own
    assert second["status"] == "PENDING_REVIEW"
    # And another user is not affected
    other = paid_order(api, runtime, COINS, user="user-0002")
    assert request(api, other["order_id"], user="user-0002").body["decided_by"] == "system:auto"


# --- a user's refund history (reviewers) --------------------------------------------------------
def user_refunds(api: Api, user_id: str, groups: tuple[str, ...] = ("reviewer",)) -> Any:
    return api(
        api_event("refund_review_refunds_of_user", user=REVIEWER, groups=groups, path_params={"user_id": user_id})
    )


def test_a_reviewer_sees_every_refund_of_the_user_newest_first(
    api: Api, runtime: LambdaRuntime, flows: Workflows
) -> None:
    # Given a user with a small refund (auto-approved) then a larger one awaiting review, and another user's refund
    small = request(api, paid_order(api, runtime, COINS)["order_id"]).body
    finished(flows, small["refund_id"])
    large = request(api, paid_order(api, runtime)["order_id"], amount=1500).body
    awaiting_review(api, large["refund_id"])
    other = request(api, paid_order(api, runtime, COINS, user="user-0002")["order_id"], user="user-0002").body
    finished(flows, other["refund_id"])
    # When a reviewer reads the user's refunds
    response = user_refunds(api, OWNER)
    # Then both of theirs, newest first, with their current status, and none of the other user's
    assert response.status == 200, response.body
    assert [(r["refund_id"], r["status"]) for r in response.body["items"]] == [
        (large["refund_id"], "PENDING_REVIEW"),
        (small["refund_id"], "SUCCEEDED"),
    ]
    assert "task_token" not in response.body["items"][0]


@pytest.mark.parametrize("groups", [(), ("support",), ("ops",)])
def test_only_reviewers_read_a_users_refunds(api: Api, groups: tuple[str, ...]) -> None:
    # When someone who is not a reviewer asks / Then 403
    response = user_refunds(api, OWNER, groups)
    assert (response.status, response.body["code"]) == (403, "FORBIDDEN")
