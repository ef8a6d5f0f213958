"""Webhook deliveries that are retried with backoff until the API answers, and survive a restart.

Stripe retries an undelivered webhook for up to three days with exponential backoff; Google's
Pub/Sub push and Apple's notifications retry for days as well. The local fakes hand their events
to a :class:`WebhookOutbox`: each delivery is POSTed, and on a non-2xx answer or no answer it is
tried again after ``base_delay * 2**(attempt-1)`` seconds (capped at ``max_delay``) until it is
older than ``max_age``. A failing delivery never holds up the others.

With a ``path``, the undelivered ones are kept in a JSON file (rewritten atomically after every
change) and picked up again by the next outbox on the same file: a webhook sent while the local
API is down is delivered after ``make run`` starts it again.

Each provider registers how to sign a body (``sign(body) -> headers``), called at every attempt:
a signature carries its time, and a provider checks that it is recent.
"""

from __future__ import annotations

import heapq
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import requests

log = logging.getLogger("local_stack.webhooks")

Signer = Callable[[str], Mapping[str, str]]
Post = Callable[..., Any]

THREE_DAYS = 3 * 24 * 3600.0


@dataclass
class PendingDelivery:
    provider: str
    url: str
    body: str
    label: str = ""  # e.g. "payment_intent.succeeded evt_123", for the log
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    created: float = field(default_factory=time.time)  # wall clock: it must survive a restart
    attempts: int = 0
    next_at: float = 0.0  # wall clock
    last_status: int | None = None


class WebhookOutbox:
    def __init__(
        self,
        path: Path | None = None,
        *,
        base_delay: float = 1.0,
        max_delay: float = 60.0,
        max_age: float = THREE_DAYS,
        post: Post = requests.post,
        on_result: Callable[[PendingDelivery, int | None], None] | None = None,
    ) -> None:
        self.path = path
        self.base_delay, self.max_delay, self.max_age = base_delay, max_delay, max_age
        self._post = post
        self._on_result = on_result
        self._signers: dict[str, Signer] = {}
        self._pending: dict[str, PendingDelivery] = {}
        self._due: list[tuple[float, str]] = []
        self._changed = threading.Condition()
        self._in_flight = 0
        self._stop = False
        self._thread: threading.Thread | None = None
        self.delivered = 0
        self.given_up: list[PendingDelivery] = []
        if path is not None and path.exists():
            self._load(path)

    # --- public ------------------------------------------------------------------------------
    def register(self, provider: str, sign: Signer) -> None:
        self._signers[provider] = sign

    def submit(self, provider: str, url: str, body: str, label: str = "") -> PendingDelivery:
        delivery = PendingDelivery(provider=provider, url=url, body=body, label=label, next_at=time.time())
        with self._changed:
            self._pending[delivery.id] = delivery
            heapq.heappush(self._due, (delivery.next_at, delivery.id))
            self._save()
            self._changed.notify_all()
        return delivery

    def retarget(self, provider: str, url: str) -> None:
        """Send the provider's pending deliveries to ``url`` (the API may listen elsewhere after a restart)."""
        with self._changed:
            for delivery in self._pending.values():
                if delivery.provider == provider:
                    delivery.url = url
            self._save()

    @property
    def pending(self) -> list[PendingDelivery]:
        with self._changed:
            return sorted(self._pending.values(), key=lambda d: d.created)

    def start(self) -> WebhookOutbox:
        if self._thread is None:
            self._stop = False
            self._thread = threading.Thread(target=self._run, name="webhook-outbox", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        with self._changed:
            self._stop = True
            self._changed.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Until nothing is pending (tests); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._pending or self._in_flight:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
            return True

    def delay_after(self, attempts: int) -> float:
        return float(min(self.max_delay, self.base_delay * 2 ** max(0, attempts - 1)))

    # --- the worker --------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._stop and (not self._due or self._due[0][0] > time.time()):
                    self._changed.wait(None if not self._due else max(0.0, self._due[0][0] - time.time()))
                if self._stop:
                    return
                _, delivery_id = heapq.heappop(self._due)
                delivery = self._pending.get(delivery_id)
                if delivery is None:
                    continue
                self._in_flight += 1
            try:
                self._attempt(delivery)
            finally:
                with self._changed:
                    self._in_flight -= 1
                    self._changed.notify_all()

    def _attempt(self, delivery: PendingDelivery) -> None:
        sign = self._signers.get(delivery.provider)
        headers = {"Content-Type": "application/json", **(sign(delivery.body) if sign else {})}
        delivery.attempts += 1
        status: int | None
        try:
            status = int(self._post(delivery.url, data=delivery.body, headers=headers, timeout=10).status_code)
        except requests.RequestException as exc:
            status = None
            log.warning("webhook %s: attempt %d: no answer (%s)", delivery.label, delivery.attempts, type(exc).__name__)
        else:
            log.info("webhook %s -> %s (attempt %d)", delivery.label, status, delivery.attempts)
        delivery.last_status = status
        if self._on_result is not None:
            self._on_result(delivery, status)
        with self._changed:
            if status is not None and 200 <= status < 300:
                self._pending.pop(delivery.id, None)
                self.delivered += 1
            elif time.time() - delivery.created >= self.max_age:
                self._pending.pop(delivery.id, None)
                self.given_up.append(delivery)
                log.error("webhook %s: given up after %d attempts", delivery.label, delivery.attempts)
            else:
                delivery.next_at = time.time() + self.delay_after(delivery.attempts)
                heapq.heappush(self._due, (delivery.next_at, delivery.id))
            self._save()

    # --- on disk -----------------------------------------------------------------------------
    def _save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps([asdict(d) for d in self._pending.values()], indent=1))
        os.replace(temporary, self.path)

    def _load(self, path: Path) -> None:
        try:
            saved = json.loads(path.read_text())
        except (OSError, ValueError):
            log.exception("webhook outbox: %s unreadable; starting empty", path)
            return
        now = time.time()
        for data in saved:
            delivery = PendingDelivery(**data)
            delivery.next_at = now  # the API may be back: try at once, then back off again
            self._pending[delivery.id] = delivery
            heapq.heappush(self._due, (delivery.next_at, delivery.id))
        if saved:
            log.info("webhook outbox: %d undelivered webhook(s) from the last run", len(saved))
