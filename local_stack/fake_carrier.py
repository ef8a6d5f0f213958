"""A fake parcel carrier for the local stack: it follows every order shipped with it and calls back, signed.

LOCAL ONLY. The carrier learns of a parcel as a real one does when it is handed over: here, from the
OrdersTable stream (an order that becomes SHIPPED with carrier ``fakecarrier``). It then reports the
journey ``picked_up → in_transit → out_for_delivery → delivered``, one milestone every
``FAKE_CARRIER_STEP_SECONDS`` (default 2 s; the tests set 0.2), each a signed callback to
``POST /webhooks/carriers/fakecarrier`` (header ``X-Carrier-Signature``, :func:`orders.logic.carriers.sign`)
handed to the local stack's retrying :class:`~local_stack.webhook_retry.WebhookOutbox` (re-signed at every
attempt, retried until the API answers 2xx). A tracking number starting ``EXC`` reports an exception
instead of going out for delivery (the demo and tests of the exception path use it).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from local_stack.webhook_retry import WebhookOutbox

log = logging.getLogger("local_stack.carrier")

NAME = "fakecarrier"
JOURNEY = ("picked_up", "in_transit", "out_for_delivery", "delivered")
EXCEPTION_JOURNEY = ("picked_up", "in_transit", "exception")
LOCATIONS = {"picked_up": "Sender depot", "in_transit": "Leipzig hub", "out_for_delivery": "Local depot"}


@dataclass
class FakeCarrier:
    secret: str
    step_seconds: float = 2.0
    webhook_url: str | None = None
    outbox: WebhookOutbox | None = None
    sent: list[dict[str, Any]] = field(default_factory=list)  # every callback handed to the outbox
    _timers: list[threading.Timer] = field(default_factory=list)
    _seen: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def attach(self, outbox: WebhookOutbox, webhook_url: str) -> None:
        # The layer's package is importable once the stack has put shared/ on the path (runtime.py).
        from orders.logic.carriers import SIGNATURE_HEADER, sign

        self.outbox, self.webhook_url = outbox, webhook_url
        outbox.register(NAME, lambda body: {SIGNATURE_HEADER: sign(self.secret, int(time.time()), body.encode())})

    # --- the stream consumer ----------------------------------------------------------------
    def consume(self, batch: dict[str, Any]) -> dict[str, Any]:
        """A stream batch of OrdersTable: start a journey for each order newly SHIPPED with this carrier."""
        for record in batch.get("Records", []):
            new = record.get("dynamodb", {}).get("NewImage") or {}
            old = record.get("dynamodb", {}).get("OldImage") or {}
            if new.get("type", {}).get("S") != "ORDER" or new.get("status", {}).get("S") != "SHIPPED":
                continue
            if old.get("status", {}).get("S") == "SHIPPED":
                continue
            shipment = new.get("shipment", {}).get("M", {})
            if shipment.get("carrier", {}).get("S") != NAME:
                continue
            self.follow(new["order_id"]["S"], shipment["tracking_number"]["S"])
        return {"batchItemFailures": []}

    def follow(self, order_id: str, tracking_number: str) -> None:
        with self._lock:
            if tracking_number in self._seen:
                return
            self._seen.add(tracking_number)
        journey = EXCEPTION_JOURNEY if tracking_number.startswith("EXC") else JOURNEY
        log.info("fake carrier: parcel %s of order %s picked up for %s", tracking_number, order_id, "/".join(journey))
        for step, status in enumerate(journey, start=1):
            timer = threading.Timer(self.step_seconds * step, self._send, (order_id, tracking_number, status))
            timer.daemon = True
            self._timers.append(timer)
            timer.start()

    def _send(self, order_id: str, tracking_number: str, status: str) -> None:
        if self.outbox is None or self.webhook_url is None:
            return
        payload = {
            "event_id": f"fc_{uuid.uuid4().hex}",
            "reference": order_id,
            "tracking_number": tracking_number,
            "status": status,
            "occurred_at": datetime.now(UTC).isoformat(),
            "location": LOCATIONS.get(status),
        }
        body = json.dumps({k: v for k, v in payload.items() if v is not None})
        self.sent.append({**payload, "sent_at": time.time()})
        self.outbox.submit(NAME, self.webhook_url, body, label=f"carrier {status} {tracking_number}")

    def stop(self) -> None:
        for timer in self._timers:
            timer.cancel()
