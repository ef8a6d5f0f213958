"""The fake providers' webhook outbox: retried with backoff until the API answers, kept across restarts."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import requests

from local_stack.webhook_retry import WebhookOutbox


class Api:
    """A webhook endpoint that is down (no answer), then answers ``statuses`` in turn, then 200."""

    def __init__(self, statuses: list[int | None]) -> None:
        self.statuses = list(statuses)
        self.calls: list[tuple[float, str, dict[str, str]]] = []

    def __call__(self, url: str, data: str, headers: dict[str, str], timeout: float) -> Any:
        self.calls.append((time.monotonic(), data, headers))
        status = self.statuses.pop(0) if self.statuses else 200
        if status is None:
            raise requests.ConnectionError("connection refused")
        return type("Response", (), {"status_code": status})()


def test_a_webhook_is_retried_with_growing_delays_until_the_api_answers() -> None:
    # Given an API that is down twice, then answers 500 twice, then 200
    api = Api([None, None, 500, 500])
    outbox = WebhookOutbox(base_delay=0.02, max_delay=0.08, post=api)
    outbox.register("stripe", lambda body: {"Stripe-Signature": f"t={time.time()},v1=sig"})
    # When an event is submitted
    outbox.start()
    outbox.submit("stripe", "http://api/webhooks/stripe", json.dumps({"id": "evt_1"}), label="evt_1")
    assert outbox.wait_idle(timeout=5)
    outbox.stop()
    # Then it was tried until it was accepted, each time freshly signed, waiting longer each time (capped)
    assert len(api.calls) == 5
    assert outbox.delivered == 1
    gaps = [later[0] - earlier[0] for earlier, later in zip(api.calls, api.calls[1:], strict=False)]
    assert gaps[1] >= gaps[0] * 1.5 and gaps[2] >= 0.07 and gaps[3] >= 0.07
    assert all("Stripe-Signature" in headers for _, _, headers in api.calls)
    assert outbox.delay_after(1) == 0.02 and outbox.delay_after(10) == 0.08


def test_one_failing_webhook_does_not_hold_up_the_others() -> None:
    failing = {"evt_bad"}

    def post(url: str, data: str, headers: dict[str, str], timeout: float) -> Any:
        return type("Response", (), {"status_code": 500 if json.loads(data)["id"] in failing else 200})()

    outbox = WebhookOutbox(base_delay=10, post=post).start()
    outbox.submit("stripe", "http://api", json.dumps({"id": "evt_bad"}))
    outbox.submit("stripe", "http://api", json.dumps({"id": "evt_good"}))
    deadline = time.monotonic() + 3
    while outbox.delivered < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    outbox.stop()
    assert outbox.delivered == 1
    assert [json.loads(d.body)["id"] for d in outbox.pending] == ["evt_bad"]


def test_undelivered_webhooks_survive_a_restart_and_go_to_the_new_address(tmp_path: Path) -> None:
    path = tmp_path / "webhooks.json"
    # Given a stack whose API never answered before it stopped
    down = Api([None] * 100)
    first = WebhookOutbox(path, base_delay=0.01, max_delay=0.02, post=down).start()
    first.submit("stripe", "http://127.0.0.1:3000/webhooks/stripe", json.dumps({"id": "evt_1"}), label="evt_1")
    time.sleep(0.1)
    first.stop()
    assert len(down.calls) >= 2
    # When the next stack starts on the same state, its API on another port
    up = Api([])
    second = WebhookOutbox(path, post=up)
    second.retarget("stripe", "http://127.0.0.1:3100/webhooks/stripe")
    second.start()
    assert second.wait_idle(timeout=5)
    second.stop()
    # Then the webhook was delivered there, and nothing is left pending on disk
    assert [json.loads(body)["id"] for _, body, _ in up.calls] == ["evt_1"]
    assert json.loads(path.read_text()) == []


def test_a_webhook_older_than_the_retry_window_is_given_up() -> None:
    outbox = WebhookOutbox(base_delay=0.01, max_age=0.05, post=Api([500] * 100)).start()
    outbox.submit("stripe", "http://api", "{}", label="old")
    assert outbox.wait_idle(timeout=5)
    outbox.stop()
    assert [d.label for d in outbox.given_up] == ["old"]
    assert outbox.delivered == 0
