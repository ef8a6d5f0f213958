"""Feedback and support tickets through the real handler."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import api_event
from tests.integration.conftest import Api
from tests.integration.helpers import order_items, placed
from tests.integration.test_scheduler import later, run
from tests.integration.test_shipping import order_in

SUPPORT: dict[str, Any] = {"user": "agent-1", "groups": ("support",)}


def feedback(api: Api, oid: str, body: Any = None, user: str = "user-0001") -> Any:
    body = {"rating": 4, "comment": "Nice"} if body is None else body
    return api(api_event("after_sales_leave_feedback", user=user, path_params={"order_id": oid}, body=body))


# --- feedback ----------------------------------------------------------------------------------
@pytest.mark.parametrize("status", ["DELIVERED", "COMPLETED"])
def test_the_owner_rates_a_delivered_order_once(api: Api, runtime: Any, status: str) -> None:
    oid = order_in(api, runtime, status)
    first = feedback(api, oid)
    assert first.status == 201
    assert (first.body["rating"], first.body["comment"], first.body["order_id"]) == (4, "Nice", oid)
    second = feedback(api, oid, {"rating": 1})
    assert (second.status, second.body["code"]) == (409, "FEEDBACK_EXISTS")


@pytest.mark.parametrize("status", ["PENDING_PAYMENT", "PAID", "PENDING_SHIPMENT", "SHIPPED", "CANCELLED"])
def test_feedback_before_delivery_is_refused_and_writes_nothing(api: Api, runtime: Any, ddb: Any, status: str) -> None:
    oid = order_in(api, runtime, status)
    before = order_items(ddb)
    response = feedback(api, oid)
    assert (response.status, response.body["code"]) == (409, "FEEDBACK_NOT_ALLOWED")
    assert order_items(ddb) == before


@pytest.mark.parametrize(
    "body", [{"rating": 0}, {"rating": 6}, {"rating": "5"}, {"rating": 4.5}, {}, {"rating": 3, "comment": "x" * 2001}]
)
def test_feedback_out_of_range_is_422(api: Api, runtime: Any, body: Any) -> None:
    oid = order_in(api, runtime, "DELIVERED")
    response = feedback(api, oid, body)
    assert (response.status, response.body["code"]) == (422, "VALIDATION_ERROR")


def test_feedback_on_someone_elses_order_is_404(api: Api, runtime: Any) -> None:
    oid = order_in(api, runtime, "DELIVERED")
    response = feedback(api, oid, user="intruder")
    assert (response.status, response.body["code"]) == (404, "ORDER_NOT_FOUND")


# --- tickets -----------------------------------------------------------------------------------
def open_ticket(api: Api, oid: str, user: str = "user-0001", message: str = "Where is my parcel?") -> Any:
    body = {"category": "delivery", "message": message}
    return api(api_event("after_sales_open_ticket", user=user, path_params={"order_id": oid}, body=body))


def queue(api: Api, **who: Any) -> Any:
    query = who.pop("query", {"status": "OPEN"})
    return api(api_event("after_sales_ticket_queue", query=query, **(who or SUPPORT)))


def reply(api: Api, tid: str, message: str, **who: Any) -> Any:
    return api(api_event("after_sales_reply", path_params={"ticket_id": tid}, body={"message": message}, **who))


def resolve(api: Api, tid: str, **who: Any) -> Any:
    return api(api_event("after_sales_resolve", path_params={"ticket_id": tid}, **(who or SUPPORT)))


def test_a_ticket_goes_through_support_and_is_resolved(api: Api) -> None:
    # Given a ticket on my order
    oid = placed(api)["order_id"]
    opened = open_ticket(api, oid)
    assert opened.status == 201
    ticket = opened.body
    tid = ticket["ticket_id"]
    assert (ticket["status"], ticket["order_id"]) == ("OPEN", oid)
    assert ticket["due_at"] > ticket["created_at"]
    # Then support sees it in the queue
    assert [t["ticket_id"] for t in queue(api).body["items"]] == [tid]
    # When support answers, it leaves the OPEN queue; my reply reopens it with a new deadline
    answered = reply(api, tid, "On its way", **SUPPORT).body
    assert (answered["status"], answered["due_at"]) == ("ANSWERED", None)
    assert answered["first_response_at"]
    assert queue(api).body["items"] == []
    assert [t["ticket_id"] for t in queue(api, query={"status": "ANSWERED"}, **SUPPORT).body["items"]] == [tid]
    reopened = reply(api, tid, "Still nothing", user="user-0001").body
    assert reopened["status"] == "OPEN" and reopened["due_at"]
    assert [m["author"] for m in reopened["messages"]] == ["owner", "support", "owner"]
    # When support resolves it / Then it is final
    done = resolve(api, tid)
    assert (done.status, done.body["status"]) == (200, "RESOLVED")
    assert queue(api).body["items"] == []
    again = resolve(api, tid)
    assert (again.status, again.body["code"]) == (409, "TICKET_RESOLVED")
    late = reply(api, tid, "hello?", user="user-0001")
    assert (late.status, late.body["code"]) == (409, "TICKET_RESOLVED")
    # And the owner can read it, another user cannot
    assert api(api_event("after_sales_get_ticket", path_params={"ticket_id": tid})).status == 200
    other = api(api_event("after_sales_get_ticket", user="intruder", path_params={"ticket_id": tid}))
    assert (other.status, other.body["code"]) == (404, "TICKET_NOT_FOUND")


def test_the_support_queue_is_oldest_due_first_and_paginates(api: Api) -> None:
    oid = placed(api)["order_id"]
    tids = [open_ticket(api, oid).body["ticket_id"] for _ in range(3)]
    first = queue(api, query={"status": "OPEN", "limit": "2"}).body
    assert [t["ticket_id"] for t in first["items"]] == tids[:2]
    second = queue(api, query={"status": "OPEN", "limit": "2", "cursor": first["next_cursor"]}).body
    assert [t["ticket_id"] for t in second["items"]] == tids[2:]


def test_a_ticket_on_someone_elses_order_is_404(api: Api, ddb: Any) -> None:
    oid = placed(api)["order_id"]
    before = order_items(ddb)
    response = open_ticket(api, oid, user="intruder")
    assert (response.status, response.body["code"]) == (404, "ORDER_NOT_FOUND")
    assert order_items(ddb) == before


def test_a_stranger_cannot_reply_to_my_ticket(api: Api) -> None:
    tid = open_ticket(api, placed(api)["order_id"]).body["ticket_id"]
    response = reply(api, tid, "hi", user="intruder")
    assert (response.status, response.body["code"]) == (404, "TICKET_NOT_FOUND")


def test_support_only_routes_refuse_a_plain_user(api: Api) -> None:
    tid = open_ticket(api, placed(api)["order_id"]).body["ticket_id"]
    for response in (queue(api, user="user-0001"), resolve(api, tid, user="user-0001")):
        assert (response.status, response.body["code"]) == (403, "FORBIDDEN")


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"status": "RESOLVED"}, "INVALID_REQUEST"),
        ({"status": "LOST"}, "VALIDATION_ERROR"),
        ({"cursor": "junk"}, "INVALID_CURSOR"),
    ],
)
def test_bad_queue_queries_are_refused(api: Api, query: dict[str, str], code: str) -> None:
    assert queue(api, query=query, **SUPPORT).body["code"] == code


@pytest.mark.parametrize("ticket_id", ["nonsense", "tkt-", "tkt-ord_nope-123"])
def test_unknown_ticket_ids_are_404(api: Api, ticket_id: str) -> None:
    response = api(api_event("after_sales_get_ticket", path_params={"ticket_id": ticket_id}, **SUPPORT))
    assert (response.status, response.body["code"]) == (404, "TICKET_NOT_FOUND")


def test_a_missed_deadline_is_flagged_once(api: Api, runtime: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    oid = placed(api)["order_id"]
    late_tid = open_ticket(api, oid).body["ticket_id"]
    answered_tid = open_ticket(api, oid).body["ticket_id"]
    reply(api, answered_tid, "Done", **SUPPORT)
    assert run(runtime, "ticket-breaches")["changed"] == 0
    later(monkeypatch, hours=25)
    assert run(runtime, "ticket-breaches")["changed"] == 1
    assert run(runtime, "ticket-breaches")["changed"] == 0
    ticket = api(api_event("after_sales_get_ticket", path_params={"ticket_id": late_tid})).body
    assert ticket["breached_at"] and ticket["status"] == "OPEN"
    assert api(api_event("after_sales_get_ticket", path_params={"ticket_id": answered_tid})).body["breached_at"] is None
