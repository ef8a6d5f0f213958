"""The local stack under load: N concurrent clients run order → pay for a bounded time.

Starts the local stack as ``python -m local_stack`` on a free port (its own process, as a developer
runs it), then N client threads each loop: create an order (POST /orders), start a Stripe payment
(POST /orders/{id}/payments), confirm the PaymentIntent at the fake Stripe (which posts the signed
webhook), and poll GET /orders/{id} until the order is paid. After the window every order created
is read again: each must be paid (PAID, PENDING_SHIPMENT or COMPLETED) — nothing lost.

The local stack runs every handler in one Python process, up to 8 invocations of a function at once
(LambdaRuntime's pool per function, as Lambda runs concurrent environments), but in one interpreter
(one GIL) on a shared machine: its throughput is that of one process, not of Lambda's.

    .venv/bin/python -m bench.load [--clients 4] [--seconds 30] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "shared"), str(ROOT)]

from local_stack.auth import issue_token  # noqa: E402
from local_stack.stack import free_port  # noqa: E402

PAID = ("PAID", "PENDING_SHIPMENT", "COMPLETED")
BODY = {"items": [{"sku": "coins-500", "quantity": 1}]}


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Client(threading.Thread):
    def __init__(self, url: str, stripe: dict[str, Any], deadline: float, index: int) -> None:
        super().__init__(name=f"client-{index}", daemon=True)
        self.url, self.stripe, self.deadline = url, stripe, deadline
        self.user = f"load-{index}-{uuid.uuid4().hex[:6]}"
        self.http = requests.Session()
        self.headers = {"Authorization": f"Bearer {issue_token(self.user, ())}"}
        self.orders: list[str] = []
        self.latency: dict[str, list[float]] = {"create": [], "start_payment": [], "confirm": [], "until_paid": []}
        self.errors: list[str] = []

    def timed(self, step: str, method: str, url: str, expect: int, **kwargs: Any) -> Any:
        began = time.perf_counter()
        response = self.http.request(method, url, timeout=60, **kwargs)
        self.latency[step].append((time.perf_counter() - began) * 1000)
        if response.status_code != expect:
            raise RuntimeError(f"{step}: {response.status_code} {response.text[:200]}")
        return response.json()

    def run(self) -> None:
        while time.monotonic() < self.deadline:
            try:
                self.one()
            except Exception as exc:
                self.errors.append(f"{type(exc).__name__}: {exc}")

    def one(self) -> None:
        headers = {**self.headers, "Idempotency-Key": uuid.uuid4().hex}
        order = self.timed("create", "POST", f"{self.url}/orders", 201, json=BODY, headers=headers)
        order_id = order["order_id"]
        self.orders.append(order_id)
        began = time.perf_counter()
        intent = self.timed(
            "start_payment",
            "POST",
            f"{self.url}/orders/{order_id}/payments",
            201,
            json={"provider": "stripe"},
            headers=self.headers,
        )
        self.timed(
            "confirm",
            "POST",
            f"{self.stripe['api_base']}/v1/payment_intents/{intent['payment_reference']}/confirm",
            200,
            data={"payment_method": "pm_card_visa"},
            headers={"Authorization": f"Bearer {self.stripe['api_key']}"},
        )
        while True:
            status = self.http.get(f"{self.url}/orders/{order_id}", headers=self.headers, timeout=60).json()["status"]
            if status in PAID:
                self.latency["until_paid"].append((time.perf_counter() - began) * 1000)
                return
            if time.perf_counter() - began > 60:
                raise TimeoutError(f"{order_id} still {status} after 60 s")
            time.sleep(0.05)


def start_stack(port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_"))}
    env["POWERTOOLS_LOG_LEVEL"] = "WARNING"
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "local_stack", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/products", timeout=10).status_code == 200:
                return process
        except (requests.ConnectionError, requests.ReadTimeout):
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the local stack did not start")


def run(clients: int = 4, seconds: float = 30.0) -> dict[str, Any]:
    port = free_port()
    process = start_stack(port)
    url = f"http://127.0.0.1:{port}"
    try:
        stripe = requests.get(f"{url}/_local/providers", timeout=10).json()["stripe"]
        load_before = os.getloadavg()[0]
        began = time.monotonic()
        threads = [Client(url, stripe, began + seconds, i) for i in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - began
        load_after = os.getloadavg()[0]
        # Reconcile: every order created is paid (stragglers get 30 s).
        lost: list[str] = []
        for thread in threads:
            for order_id in thread.orders:
                deadline = time.monotonic() + 30
                while True:
                    status = requests.get(f"{url}/orders/{order_id}", headers=thread.headers, timeout=30).json()
                    if status.get("status") in PAID:
                        break
                    if time.monotonic() > deadline:
                        lost.append(f"{order_id}: {status.get('status')}")
                        break
                    time.sleep(0.2)
    finally:
        process.terminate()
        process.wait(timeout=30)
    latency = {step: [v for t in threads for v in t.latency[step]] for step in threads[0].latency}
    completed = len(latency["until_paid"])
    return {
        "clients": clients,
        "seconds": round(elapsed, 1),
        "orders_created": sum(len(t.orders) for t in threads),
        "orders_paid_in_window": completed,
        "throughput_paid_orders_per_s": round(completed / elapsed, 2),
        "latency_ms": {
            step: {"p50": round(statistics.median(v), 1) if v else 0.0, "p95": round(percentile(v, 0.95), 1)}
            for step, v in latency.items()
        },
        "errors": [e for t in threads for e in t.errors],
        "not_paid_after_reconcile": lost,
        "load_average": [round(load_before, 2), round(load_after, 2)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    out = run(args.clients, args.seconds)
    print(json.dumps(out, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
