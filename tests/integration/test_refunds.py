"""The refund workflow end to end on moto: the real handlers behind the API and behind the
state machine's Lambda tasks, the real definition (statemachines/refund.asl.json)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

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
    with workflows(runtime, REFS | workflow_refs()) as deployed:
        yield deployed
    sfn_client.cache_clear()


# --- helpers --------------------------------------------------------------------------------
def paid_order(api: Api, runtime: LambdaRuntime, body: dict[str, Any] = SHIRT, user: str = OWNER) -> dict[str, Any]:
    event = api_event("create_order", body=body, user=user)
    event["headers"].pop("Idempotency-Key")
    event["multiValueHeaders"].pop("Idempotency-Key")
    created = api(event)
    assert created.status == 201, created.body
    with runtime._lock:  # stand-in for the payment webhook: the same conditional transition
        runtime._enter("OrderQueryFunction")
        transitions.change(orders_repository(), created.body["order_id"], Action.PAYMENT_SUCCEEDED, actor="test:pay")
    return created.body  # type: ignore[no-any-return]


def request(api: Api, order_id: str, *, amount: int | None = None, reason: str = "torn", user: str = OWNER) -> Any:
    body: dict[str, Any] = {"reason": reason}
    if amount is not None:
        body["amount"] = amount
    return api(api_event("refund_request_create", user=user, body=body, path_params={"order_id": order_id}))


def get_refund(api: Api, refund_id: str, user: str = OWNER) -> dict[str, Any]:
    response = api(api_event("refund_request_get", user=user, path_params={"refund_id": refund_id}))
    assert response.status == 200, response.body
    return response.body  # type: ignore[no-any-return]


def get_order(api: Api, order_id: str) -> dict[str, Any]:
    return api(api_event("order_query_get_order", path_params={"order_id": order_id})).body  # type: ignore[no-any-return]


def timeline(api: Api, order_id: str) -> list[dict[str, Any]]:
    return api(api_event("order_query_get_events", path_params={"order_id": order_id})).body["items"]  # type: ignore[no-any-return]


def queue(api: Api, user: str = REVIEWER, groups: tuple[str, ...] = ("reviewer",)) -> Any:
    return api(api_event("refund_review_queue", user=user, groups=groups, query={"status": "PENDING_REVIEW"}))


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


def finished(flows: Workflows, refund_id: str) -> dict[str, Any]:
    return flows.wait(flows.execution_arn(SM, refund_id))


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
