"""Downstream events on the EventBridge bus (the logic's ``EventPublisher`` port, orders.logic.ports)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient


class EventBridgePublisher:
    def __init__(self, bus_name: str, client: EventBridgeClient) -> None:
        self._bus = bus_name
        self._client = client

    def publish(self, source: str, detail_type: str, detail: dict[str, Any], at: datetime) -> str:
        response = self._client.put_events(
            Entries=[
                {
                    "Source": source,
                    "DetailType": detail_type,
                    "Detail": json.dumps(detail, ensure_ascii=False, separators=(",", ":")),
                    "EventBusName": self._bus,
                    "Time": at,
                }
            ]
        )
        entry = (response.get("Entries") or [{}])[0]
        if response.get("FailedEntryCount") or "EventId" not in entry:
            # Throttling or an internal error at EventBridge: transient, the record is retried.
            raise RuntimeError(f"put_events failed: {entry.get('ErrorCode')} {entry.get('ErrorMessage')}")
        return entry["EventId"]
