"""GET /orders/{order_id}/invoice through the real handler: lines and totals, the payments from the ledger
and the refunds (ours and the provider's), for the owner or staff; another user's order is not found."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from local_stack.fake_refunds import substituted
from local_stack.runtime import LambdaRuntime
from tests.conftest import FAKE_AWS_ENV, api_event
from tests.integration.conftest import REFS, Api, HttpResult, put_secret
from tests.integration.payments_support import (
    STRIPE_SECRET,
    USER,
    create_order,
    get_order,
    post_stripe,
    stripe_event,
    stripe_refund_event,
)
from tests.integration.stepfunctions import Workflows, workflow_refs, workflows

WORKFLOW_REFS = REFS | workflow_refs()


@pytest.fixture
def runtime(aws: None) -> LambdaRuntime:
    # The webhook secret is where a deployer puts it: the stack's Secrets Manager secret.
    put_secret("StripeWebhookSecret", STRIPE_SECRET)
    return LambdaRuntime(WORKFLOW_REFS, base_env=FAKE_AWS_ENV)


@pytest.fixture
def flows(runtime: LambdaRuntime) -> Iterator[Workflows]:
    from orders.dal.workflow import sfn_client

    sfn_client.cache_clear()
    with substituted(), workflows(runtime, WORKFLOW_REFS) as deployed:
        yield deployed
    sfn_client.cache_clear()


def invoice(api: Api, order_id: str, user: str = USER, groups: tuple[str, ...] = ()) -> HttpResult:
    return api(api_event("orders_get_invoice", user=user, groups=groups, path_params={"order_id": order_id}))


def paid(api: Api, quantity: int = 2) -> dict[str, Any]:
    order = create_order(api, quantity=quantity)
    paying = post_stripe(api, stripe_event(order["order_id"], amount=order["total"], intent_id="pi_invoice_1"))
    assert paying.body["outcome"] == "PAID", paying.body
    return order


def test_a_paid_order_with_a_partial_refund_shows_its_payment_the_refund_and_the_balance(api: Api) -> None:
    # Given an order paid with Stripe, then partly refunded in Stripe's dashboard (reported by its webhook)
    order = paid(api)
    refund = post_stripe(api, stripe_refund_event(order["order_id"], "re_invoice_1", 300, intent_id="pi_invoice_1"))
    assert refund.body["outcome"] == "REFUND_RECORDED", refund.body
    # When the owner reads the invoice
    result = invoice(api, order["order_id"])
    # Then it has the order's lines and totals
    assert result.status == 200, result.body
    body = result.body
    assert body["lines"] == order["items"]
    for key in ("order_id", "currency", "subtotal", "shipping_fee", "total", "created_at"):
        assert body[key] == order[key], key
    # And the payment the ledger recorded, the refund, and what the seller keeps
    assert [(p["provider"], p["payment_reference"], p["amount"], p["outcome"]) for p in body["payments"]] == [
        ("stripe", "pi_invoice_1", order["total"], "PAID")
    ]
    assert [(r["refund_id"], r["provider_refund_id"], r["amount"]) for r in body["refunds"]] == [
        (None, "re_invoice_1", 300)
    ]
    assert (body["paid"], body["refunded"], body["balance"]) == (order["total"], 300, order["total"] - 300)
    assert body["refunded"] == get_order(api, order["order_id"])["refunded_total"]
    assert (body["status"], body["refund_pending"]) == ("PAID", 0)
    # And staff who may read orders see the same invoice
    assert invoice(api, order["order_id"], user="agent-1", groups=("support",)).body == body


def test_a_refund_of_ours_and_one_made_at_the_provider_are_both_listed_in_the_order_they_happened(
    api: Api, flows: Workflows
) -> None:
    # Given a paid order of 998, a refund of 400 the owner asked for (auto-approved, executed by the workflow)
    order = paid(api)
    asked = api(
        api_event(
            "refund_request_request_refund",
            user=USER,
            body={"amount": 400, "reason": "one was broken"},
            path_params={"order_id": order["order_id"]},
        )
    )
    assert asked.status == 202, asked.body
    refund_id = asked.body["refund_id"]
    assert flows.wait(flows.execution_arn("RefundStateMachine", refund_id), timeout=30)["status"] == "SUCCEEDED"
    # And then 100 refunded in Stripe's dashboard
    dashboard = post_stripe(api, stripe_refund_event(order["order_id"], "re_invoice_2", 100, intent_id="pi_invoice_1"))
    assert dashboard.body["outcome"] == "REFUND_RECORDED", dashboard.body
    # When the owner reads the invoice
    body = invoice(api, order["order_id"]).body
    # Then both refunds are there, ours first, and the totals agree with the order
    assert [(r["refund_id"], r["amount"], r["automatic"]) for r in body["refunds"]] == [
        (refund_id, 400, False),
        (None, 100, False),
    ]
    assert body["refunds"][0]["provider_refund_id"] is not None
    assert body["refunds"][0]["refunded_at"] <= body["refunds"][1]["refunded_at"]
    assert (body["paid"], body["refunded"], body["balance"]) == (order["total"], 500, order["total"] - 500)
    assert body["refunded"] == get_order(api, order["order_id"])["refunded_total"]


def test_another_users_order_is_not_found(api: Api) -> None:
    # Given a paid order of USER
    order = paid(api)
    # When another user, or staff without a reading role, asks for its invoice
    other = invoice(api, order["order_id"], user="intruder")
    analyst = invoice(api, order["order_id"], user="numbers", groups=("analyst",))
    # Then it reads as a missing order (404 ORDER_NOT_FOUND), exactly as GET /orders/{order_id} answers them
    for user, groups, result in (("intruder", (), other), ("numbers", ("analyst",), analyst)):
        assert (result.status, result.body["code"]) == (404, "ORDER_NOT_FOUND")
        read = api(api_event("orders_get_order", user=user, groups=groups, path_params={"order_id": order["order_id"]}))
        assert (read.status, read.body) == (result.status, result.body)


def test_an_unpaid_order_has_no_payments_and_nothing_to_keep(api: Api) -> None:
    # Given an order not paid yet
    order = create_order(api)
    # When its owner reads the invoice
    result = invoice(api, order["order_id"])
    # Then it shows what is owed, and no money either way
    assert result.status == 200, result.body
    body = result.body
    assert (body["status"], body["total"], body["lines"]) == ("PENDING_PAYMENT", order["total"], order["items"])
    assert (body["paid"], body["refunded"], body["balance"], body["payments"], body["refunds"]) == (0, 0, 0, [], [])
    assert body["paid_at"] is None
