"""Who may call a route, as its handler declares it (orders.http.owner_or, listed in the README's route table
as the operation's x-callers), is who the route answers: the owner, and staff in the declared roles; every
other signed-in caller, in any other group, is told "not found"."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from local_stack.fake_refunds import substituted
from local_stack.runtime import LambdaRuntime
from orders.http import owner_readers
from orders.roles import Role
from tests.conftest import FAKE_AWS_ENV, api_event, api_samples
from tests.integration.conftest import REFS, Api
from tests.integration.helpers import mark_paid
from tests.integration.stepfunctions import Workflows, workflow_refs, workflows

OWNER = "user-0001"
STRANGER = "someone-else"
COINS = {"items": [{"sku": "coins-500", "quantity": 1}]}  # 499: a refund of it is approved without a reviewer


@pytest.fixture
def runtime(aws: None) -> LambdaRuntime:
    return LambdaRuntime(REFS | workflow_refs(), base_env=FAKE_AWS_ENV)


@pytest.fixture
def flows(runtime: LambdaRuntime) -> Iterator[Workflows]:
    from orders.dal.workflow import sfn_client

    sfn_client.cache_clear()
    with substituted(), workflows(runtime, REFS | workflow_refs()) as deployed:
        yield deployed
    sfn_client.cache_clear()


def owner_routes(api: Api) -> dict[tuple[str, str], tuple[Role, ...]]:
    """Every route served by the template whose handler declares owner_or, with the declared staff roles."""
    declared = {}
    for logical_id in set(api._function_of.values()):
        app = api.runtime.specs[logical_id].load_module().app
        for route in app._static_routes + app._dynamic_routes:
            readers = owner_readers(route.func)
            if readers is not None:
                declared[(route.method, re.sub(r"<(\w+)>", r"{\1}", route.path))] = readers
    return declared


def things_of_the_owner(api: Api, runtime: LambdaRuntime, flows: Workflows) -> dict[str, str]:
    """A paid order of the owner, a refund of it and a ticket on it: the path parameters of their routes."""
    event = api_event("create_order", body=COINS, user=OWNER)
    event["headers"].pop("Idempotency-Key")
    event["multiValueHeaders"].pop("Idempotency-Key")
    order = api(event)
    assert order.status == 201, order.body
    order_id = order.body["order_id"]
    mark_paid(runtime, order_id)
    path = {"order_id": order_id}
    ticket = api(api_event("after_sales_open_ticket", user=OWNER, path_params=path))
    refund = api(api_event("refund_request_request_refund", user=OWNER, body={"reason": "test"}, path_params=path))
    assert (ticket.status, refund.status) == (201, 202), (ticket.body, refund.body)
    arn = flows.execution_arn("RefundStateMachine", refund.body["refund_id"])
    assert flows.wait(arn)["status"] == "SUCCEEDED"
    return {"order_id": order_id, "ticket_id": ticket.body["ticket_id"], "refund_id": refund.body["refund_id"]}


def call(api: Api, method: str, resource: str, ids: dict[str, str], groups: tuple[str, ...]) -> Any:
    names = re.findall(r"\{(\w+)\}", resource)
    event = api_event(
        api_samples()[(method, resource)], user=STRANGER, groups=groups, path_params={n: ids[n] for n in names}
    )
    return api(event)


def test_owner_routes_answer_their_declared_staff_and_no_one_else(
    api: Api, runtime: LambdaRuntime, flows: Workflows
) -> None:
    # Given the routes declared "the owner, or staff in these roles", and an order, refund and ticket of a user
    routes = owner_routes(api)
    assert len(routes) >= 15 and any(readers for readers in routes.values())
    ids = things_of_the_owner(api, runtime, flows)
    for (method, resource), readers in sorted(routes.items()):
        # When another signed-in user calls the route: without a group, and in each staff group
        for groups in [(), *((role.value,) for role in Role)]:
            result = call(api, method, resource, ids, groups)
            # Then staff in a declared role get an answer, and everyone else "not found" (never a 403)
            allowed = any(group in readers for group in groups)
            assert (result.status != 404) is allowed, (method, resource, groups, result.status, result.body)
            assert result.status not in (401, 403, 500), (method, resource, groups, result.status, result.body)
