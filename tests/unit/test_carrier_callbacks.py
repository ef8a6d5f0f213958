"""Carrier callbacks: forged, stale, malformed and out-of-order events are refused or change nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from orders import errors
from orders.logic import carriers
from orders.logic.carriers import TrackingStatus

SECRET = "carrier-test-secret"
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def body(status: str = "in_transit", occurred_at: str = "2026-11-28T11:59:00Z", **extra: str) -> bytes:
    payload = {"event_id": "ev_1", "reference": "ord_1", "tracking_number": "1Z999", "status": status}
    payload["occurred_at"] = occurred_at
    payload.update(extra)
    return json.dumps(payload).encode()


def event(status: str, occurred_at: datetime) -> carriers.CarrierEvent:
    return carriers.parse_event(body(status, occurred_at.isoformat()))


def test_a_signed_callback_within_the_window_verifies() -> None:
    # Given a body signed now with the carrier's secret
    raw = body()
    header = carriers.sign(SECRET, int(NOW.timestamp()), raw)
    # When it is verified
    timestamp = carriers.verify(SECRET, header, raw, NOW)
    # Then the signed time is returned
    assert timestamp == int(NOW.timestamp())


def test_a_forged_signature_is_refused() -> None:
    # Given a body signed with another secret
    raw = body()
    header = carriers.sign("someone-else", int(NOW.timestamp()), raw)
    # When / Then it is WEBHOOK_SIGNATURE_INVALID
    with pytest.raises(errors.WebhookSignatureInvalid):
        carriers.verify(SECRET, header, raw, NOW)


def test_a_tampered_body_is_refused() -> None:
    # Given a correct signature over a different body
    header = carriers.sign(SECRET, int(NOW.timestamp()), body("in_transit"))
    # When / Then the delivered body does not verify
    with pytest.raises(errors.WebhookSignatureInvalid):
        carriers.verify(SECRET, header, body("delivered"), NOW)


def test_a_replayed_signature_with_a_new_timestamp_is_refused() -> None:
    # Given a captured signature whose timestamp is moved into the window
    raw = body()
    old = int((NOW - timedelta(hours=1)).timestamp())
    signature = carriers.sign(SECRET, old, raw).split(",")[1]
    header = f"t={int(NOW.timestamp())},{signature}"
    # When / Then the timestamp is part of what is signed
    with pytest.raises(errors.WebhookSignatureInvalid):
        carriers.verify(SECRET, header, raw, NOW)


@pytest.mark.parametrize("age", [timedelta(minutes=6), timedelta(minutes=-6)])
def test_a_stale_callback_is_refused(age: timedelta) -> None:
    # Given a correctly signed body from outside the five-minute window (past or future)
    raw = body()
    header = carriers.sign(SECRET, int((NOW - age).timestamp()), raw)
    # When / Then it is WEBHOOK_TIMESTAMP_STALE
    with pytest.raises(errors.WebhookTimestampStale):
        carriers.verify(SECRET, header, raw, NOW)


@pytest.mark.parametrize("header", [None, "", "v1=abc", "t=12", "t=abc,v1=def", "garbage"])
def test_a_missing_or_malformed_header_is_a_400(header: str | None) -> None:
    with pytest.raises(errors.WebhookSignatureMissing):
        carriers.verify(SECRET, header, body(), NOW)


def test_the_secret_is_picked_per_carrier_and_unknown_carriers_are_404() -> None:
    table = json.dumps({"fastship": "s1", "parcelco": "s2"})
    assert carriers.carrier_secret(table, "parcelco") == "s2"
    with pytest.raises(errors.UnknownCarrier):
        carriers.carrier_secret(table, "nobody")


@pytest.mark.parametrize("stored", [None, "not json"])
def test_an_unset_secret_store_is_503_not_configured(stored: str | None) -> None:
    with pytest.raises(errors.WebhookNotConfigured):
        carriers.carrier_secret(stored, "fastship")


@pytest.mark.parametrize(
    "raw",
    [b"{}", body(status="lost"), body(occurred_at="yesterday"), b"[1]", body(event_id="a b")],
)
def test_an_authentic_body_that_is_not_an_event_is_invalid_payload(raw: bytes) -> None:
    with pytest.raises(errors.InvalidWebhookPayload):
        carriers.parse_event(raw)


def test_an_older_event_after_a_newer_one_never_moves_the_status_back() -> None:
    # Given a parcel out for delivery at 11:00
    at = NOW - timedelta(hours=1)
    # When an in-transit event from 09:00 arrives late
    late = event("in_transit", NOW - timedelta(hours=3))
    # Then it does not become the status
    assert not carriers.moves_forward(TrackingStatus.OUT_FOR_DELIVERY, at, late)


def test_nothing_moves_a_delivered_parcel() -> None:
    later = event("exception", NOW)
    assert not carriers.moves_forward(TrackingStatus.DELIVERED, NOW - timedelta(hours=1), later)


def test_a_newer_milestone_moves_forward_and_an_exception_can_be_left() -> None:
    at = NOW - timedelta(hours=1)
    assert carriers.moves_forward(None, None, event("picked_up", at))
    assert carriers.moves_forward(TrackingStatus.IN_TRANSIT, at, event("out_for_delivery", NOW))
    assert carriers.moves_forward(TrackingStatus.IN_TRANSIT, at, event("exception", NOW))
    assert carriers.moves_forward(TrackingStatus.EXCEPTION, at, event("delivered", NOW))
    # a lower milestone reported later in time (a carrier's mistake) still does not go back
    assert not carriers.moves_forward(TrackingStatus.OUT_FOR_DELIVERY, at, event("picked_up", NOW))


def test_a_failed_delivery_attempt_after_out_for_delivery_becomes_the_status() -> None:
    # Given a parcel out for delivery at 11:00
    at = NOW - timedelta(hours=1)
    # When the carrier reports an exception at 12:00 (nobody home), and one from 10:00 arrives late
    attempt, stale = event("exception", NOW), event("exception", NOW - timedelta(hours=2))
    # Then the newer one becomes the status, the older one does not; the next attempt moves on from it
    assert carriers.moves_forward(TrackingStatus.OUT_FOR_DELIVERY, at, attempt)
    assert not carriers.moves_forward(TrackingStatus.OUT_FOR_DELIVERY, at, stale)
    assert carriers.moves_forward(TrackingStatus.EXCEPTION, NOW, event("out_for_delivery", NOW + timedelta(days=1)))


def test_an_older_event_of_a_later_milestone_does_not_replace_a_newer_status() -> None:
    # Given an exception reported at 11:00
    at = NOW - timedelta(hours=1)
    # When an out-for-delivery event from 10:00 arrives after it
    late = event("out_for_delivery", NOW - timedelta(hours=2))
    # Then the exception stays the status (it is kept in the history only)
    assert not carriers.moves_forward(TrackingStatus.EXCEPTION, at, late)
    # but a delivery reported late still ends the journey
    assert carriers.moves_forward(TrackingStatus.EXCEPTION, at, event("delivered", NOW - timedelta(hours=2)))
