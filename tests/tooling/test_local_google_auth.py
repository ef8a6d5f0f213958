"""google-auth's Regional Access Boundary lookup, in the local stack, goes to the fake Google.

google-auth 2.55+ asks IAM Credentials (``iamcredentials.googleapis.com``) for a service account's
allowed locations after each token refresh; locally that host does not resolve.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from google.auth.transport.requests import AuthorizedSession

from local_stack.fake_google_play import (
    NO_REGIONAL_BOUNDARY,
    PLAY_CLIENT_EMAIL,
    FakeGooglePlay,
    FakeGooglePlayServer,
    regional_access_boundary_lookups_to,
)
from orders.adapters.payments.google_adapter import play_credentials

LOOKUP = f"/v1/projects/-/serviceAccounts/{PLAY_CLIENT_EMAIL}/allowedLocations"


@pytest.fixture
def google() -> Iterator[FakeGooglePlayServer]:
    server = FakeGooglePlayServer(FakeGooglePlay())
    server.start()
    yield server
    server.stop()


def lookups(fake: FakeGooglePlay, within: float = 10.0) -> list[tuple[str, str, int]]:
    """The fake's answers to the lookup (made in a background thread after the refresh)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if found := [r for r in fake.requests if r[1].endswith("/allowedLocations")]:
            return found
        time.sleep(0.05)
    return []


def test_after_a_token_refresh_the_boundary_lookup_is_answered_by_the_fake(google: FakeGooglePlayServer) -> None:
    # Given the Play API credentials of the fake's service account, in the local stack's routing
    credentials = play_credentials(google.fake.service_account_key())
    with regional_access_boundary_lookups_to(google.url):
        # When a Play API call makes google-auth refresh the token
        session = AuthorizedSession(credentials)  # type: ignore[no-untyped-call]
        session.get(f"{google.url}/androidpublisher/v3/applications/app/purchases/products/p/tokens/t", timeout=5)
        answered = lookups(google.fake)
        # (the background thread stores the answer after the fake has recorded the request: wait for it)
        deadline = time.monotonic() + 10.0
        while credentials.regional_access_boundary != NO_REGIONAL_BOUNDARY and time.monotonic() < deadline:
            time.sleep(0.05)
    # Then google-auth asked the fake for the account's allowed locations, with the token, and has no boundary
    assert answered == [("GET", LOOKUP, 200)]
    assert credentials.regional_access_boundary == NO_REGIONAL_BOUNDARY


def test_the_lookup_needs_a_token_the_fake_issued(google: FakeGooglePlayServer) -> None:
    status, body = google.fake.request("GET", LOOKUP, {"Authorization": "Bearer made-up"}, "")
    assert (status, body["error"]["status"]) == (401, "UNAUTHENTICATED")
