"""The local stack over real HTTP: the README's run command, as a client sees it."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import threading
import uuid

import jwt
import requests

from local_stack.apigw import MAX_BODY_BYTES
from local_stack.auth import LOCAL_JWT_SECRET, issue_token
from local_stack.demo import run_demo
from local_stack.template import ROOT
from tests.e2e.conftest import RunningStack


def auth(user: str, *groups: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(user, groups)}"}


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "POWERTOOLS_"))}
    return subprocess.run(
        [sys.executable, "-m", "local_stack", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_starts_within_a_minute_with_a_seeded_catalog(local_stack: RunningStack) -> None:
    # Given the stack just started
    assert local_stack.startup_seconds < 60
    # When a client browses the catalog
    items = requests.get(f"{local_stack.url}/products", timeout=10).json()["items"]
    # Then there is at least one product of each kind
    assert {"virtual", "subscription", "physical"} <= {item["kind"] for item in items}


def test_a_user_creates_reads_and_cancels_an_order(local_stack: RunningStack) -> None:
    # Given a user with a dev token
    user = f"e2e-{uuid.uuid4().hex[:6]}"
    # When they order a virtual good
    created = requests.post(
        f"{local_stack.url}/orders",
        json={"items": [{"sku": "coins-500", "quantity": 3}]},
        headers={**auth(user), "Idempotency-Key": str(uuid.uuid4())},
        timeout=10,
    )
    # Then it is theirs, priced by the server, and visible only to them
    assert created.status_code == 201, created.text
    order = created.json()
    assert (order["user_id"], order["total"], order["status"]) == (user, 3 * 499, "PENDING_PAYMENT")
    mine = requests.get(f"{local_stack.url}/orders", headers=auth(user), timeout=10).json()["items"]
    assert [o["order_id"] for o in mine] == [order["order_id"]]
    other = requests.get(f"{local_stack.url}/orders/{order['order_id']}", headers=auth("someone-else"), timeout=10)
    assert other.status_code == 404
    # When they cancel it
    cancelled = requests.post(f"{local_stack.url}/orders/{order['order_id']}/cancel", headers=auth(user), timeout=10)
    # Then the timeline shows both steps
    assert cancelled.json()["status"] == "CANCELLED"
    timeline = requests.get(f"{local_stack.url}/orders/{order['order_id']}/events", headers=auth(user), timeout=10)
    assert [e["to_status"] for e in timeline.json()["items"]] == ["PENDING_PAYMENT", "CANCELLED"]


def test_handler_errors_keep_the_error_contract_over_http(local_stack: RunningStack) -> None:
    # When a body is not JSON
    response = requests.post(
        f"{local_stack.url}/orders",
        data="{not json",
        headers={**auth("u-bad"), "Content-Type": "application/json"},
        timeout=10,
    )
    # Then the handler's 400 comes back as it answered it
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_JSON"


def test_gateway_answers_bad_requests_itself(local_stack: RunningStack) -> None:
    url = local_stack.url
    # Unknown route, wrong method
    assert requests.get(f"{url}/nowhere", timeout=10).json()["code"] == "ROUTE_NOT_FOUND"
    wrong = requests.delete(f"{url}/products", timeout=10)
    assert (wrong.status_code, wrong.json()["code"]) == (405, "METHOD_NOT_ALLOWED")
    # Expired and wrongly signed tokens
    expired = issue_token("u1", ttl_seconds=-10)
    forged = jwt.encode({"sub": "u1", "iss": "local-stack", "iat": 1, "exp": 2**40}, LOCAL_JWT_SECRET + "x", "HS256")
    for token in (expired, forged):
        response = requests.get(f"{url}/orders", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert (response.status_code, response.json()["code"]) == (401, "UNAUTHORIZED")


def test_body_over_the_api_gateway_limit_is_413(local_stack: RunningStack) -> None:
    # Given a request announcing a body one byte over 10 MB
    connection = http.client.HTTPConnection("127.0.0.1", local_stack.port, timeout=10)
    connection.putrequest("POST", "/orders")
    connection.putheader("Authorization", f"Bearer {issue_token('u1')}")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", str(MAX_BODY_BYTES + 1))
    connection.endheaders()
    # When the gateway answers (before the body is sent)
    response = connection.getresponse()
    # Then 413 in the error shape, and the connection is closed
    assert response.status == 413
    assert json.loads(response.read())["code"] == "PAYLOAD_TOO_LARGE"
    assert response.getheader("Connection") == "close"
    connection.close()


def test_inspection_routes_answer(local_stack: RunningStack) -> None:
    # The local-only routes of API.md answer in their documented shape
    for path in ("/_local/notifications", "/_local/notifications?order_id=ord_x", "/_local/events"):
        body = requests.get(f"{local_stack.url}{path}", timeout=10).json()
        assert isinstance(body["items"], list)


def test_the_demo_passes(local_stack: RunningStack) -> None:
    # When the demo drives the whole scenario over HTTP
    # Then it passes
    assert run_demo(local_stack.url) == 0


def test_token_command_prints_only_a_token() -> None:
    # When the token command runs
    result = run_cli("token", "--user", "user-0042", "--groups", "reviewer,ops", "--ttl", "120")
    # Then stdout is one line: a token the authorizer accepts, with the user and groups
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    claims = jwt.decode(lines[0], LOCAL_JWT_SECRET, algorithms=["HS256"], options={"verify_aud": False})
    assert (claims["sub"], claims["cognito:groups"]) == ("user-0042", ["reviewer", "ops"])
    assert claims["exp"] - claims["iat"] == 120


def test_port_in_use_is_a_clear_error(local_stack: RunningStack) -> None:
    # When a second stack is started on the first one's port
    result = run_cli("--port", str(local_stack.port))
    # Then it says so, without a stack trace
    assert result.returncode == 2
    assert "already in use" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_invoke_runs_one_function_in_process_and_prints_its_response() -> None:
    # When `make invoke` falls back to the in-process invoke (no Docker)
    result = run_cli("invoke", "CatalogFunction", "events/catalog_list_products.json")
    # Then stdout is the function's response alone
    assert result.returncode == 0, result.stderr[-2000:]
    response = json.loads(result.stdout)
    assert response["statusCode"] == 200
    # (the sample event browses the kitchen category: events/catalog_list_products.json)
    items = json.loads(response["body"])["items"]
    assert {p["sku"] for p in items} >= {"mug-classic", "tea-cup-jingdezhen"}
    assert {p["category"] for p in items} == {"kitchen"}


def test_a_chunked_body_reaches_the_handler_whole(local_stack: RunningStack) -> None:
    # Given an order body sent with Transfer-Encoding: chunked
    chunks = iter([b'{"items": [{"sku": "coins-500", ', b'"quantity": 2}]}'])
    # When it is posted
    response = requests.post(f"{local_stack.url}/orders", data=chunks, headers=auth("u-chunked"), timeout=10)
    # Then the handler saw the whole body
    assert response.status_code == 201, response.text
    assert response.json()["total"] == 2 * 499


def test_stream_delivery_goes_on_after_refused_transactions(local_stack: RunningStack) -> None:
    from local_stack.demo import Demo, order_status, pay

    demo = Demo(local_stack.url)
    # Given a virtual order, and a refused transaction on it (feedback before delivery is a 409)
    created = demo.call(
        "POST", "/orders", as_user="client", json={"items": [{"sku": "coins-500", "quantity": 1}]}, expect=201
    )
    demo.call("POST", f"/orders/{created['order_id']}/feedback", as_user="client", json={"rating": 5}, expect=409)
    # When it is paid through the fake provider
    demo.state["order"] = created
    pay(demo)
    # Then the stream still delivers: the grant completes it, and the teams hear of the payment
    assert order_status(demo, "order", "COMPLETED")["status"] == "COMPLETED"
    events = requests.get(f"{local_stack.url}/_local/events", timeout=10).json()["items"]
    steps = [e["detail"].get("new_status") for e in events if e["detail"].get("order_id") == created["order_id"]]
    assert "PAID" in steps, events[-5:]


def test_requests_to_one_function_run_at_the_same_time(local_stack: RunningStack) -> None:
    from concurrent.futures import ThreadPoolExecutor

    # When 8 clients place orders at the same moment
    barrier = threading.Barrier(8)

    def place(index: int) -> tuple[int, str]:
        user = f"e2e-burst-{index}-{uuid.uuid4().hex[:4]}"
        headers = auth(user)
        barrier.wait()
        body = {"items": [{"sku": "coins-500", "quantity": 1}]}
        response = requests.post(f"{local_stack.url}/orders", json=body, headers=headers, timeout=30)
        return response.status_code, "mine" if response.json().get("user_id") == user else response.text

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(place, range(8)))
    # Then each was served as its own request (its status, its caller), and the function ran several
    # invocations at once (its pool of execution environments, not a queue)
    assert results == [(201, "mine")] * 8
    state = requests.get(f"{local_stack.url}/_local/runtime", timeout=10).json()["functions"]["CreateOrderFunction"]
    assert 2 <= state["peak"] <= state["concurrency"]


def test_two_users_racing_over_http_for_the_last_item_one_wins(local_stack: RunningStack) -> None:
    # Given a new physical product with one left
    sku = f"e2e-last-{uuid.uuid4().hex[:6]}"
    product = {"sku": sku, "name": "Last one", "kind": "physical", "price": 1500, "currency": "USD", "stock": 1}
    created = requests.post(f"{local_stack.url}/products", json=product, headers=auth("e2e-ops", "ops"), timeout=10)
    assert created.status_code == 201, created.text
    address = {"name": "A", "line1": "1 Road", "city": "London", "postal_code": "N1", "country": "GB"}
    body = {"items": [{"sku": sku, "quantity": 1}], "shipping_address": address}
    barrier = threading.Barrier(4)
    results: list[requests.Response] = []

    def buy(user: str) -> None:
        headers = auth(user)
        barrier.wait()
        results.append(requests.post(f"{local_stack.url}/orders", json=body, headers=headers, timeout=30))

    # When four users order it at the same moment
    threads = [threading.Thread(target=buy, args=(f"e2e-racer-{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then exactly one order was placed; the others were told it is out of stock
    assert sorted(r.status_code for r in results) == [201, 409, 409, 409]
    assert {r.json()["code"] for r in results if r.status_code == 409} == {"OUT_OF_STOCK"}
    left = requests.get(f"{local_stack.url}/products/{sku}", timeout=10).json()
    assert left.get("stock", 0) in (0, None) or left.get("available") is False
    # (The stack is shared by the e2e tests: take the sold-out product off sale for the others, e.g. the demo.)
    off = requests.patch(
        f"{local_stack.url}/products/{sku}", json={"active": False}, headers=auth("e2e-ops", "ops"), timeout=10
    )
    assert off.status_code == 200, off.text
