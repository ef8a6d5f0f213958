"""Merchants without AWS: the shop claim of a dev token as the handlers read it, and the listing checks."""

from __future__ import annotations

from typing import Any

import pytest

from local_stack.auth import issue_token, verify_token
from orders.config import Config
from orders.http import caller_from_claims
from orders.logic.listings import automatic_check
from orders.models.merchant import ListingKind, ReasonCode, merchant_of, new_listing_id

NEW = {
    "sku": "scarf-wool",
    "kind": "physical",
    "price": 3200,
    "currency": "USD",
    "name": "Wool Scarf",
    "description": "Merino wool.",
    "category": "apparel",
    "tags": ["wool"],
    "images": ["https://img.example/1.jpg"],
}


@pytest.mark.parametrize(
    ("merchant", "linked"),
    [("north-loom", "north-loom"), (None, None), ("platform", None), ("North Loom", None), ("x" * 41, None)],
)
def test_the_token_command_carries_the_shop_and_the_caller_reads_only_a_real_one(
    merchant: str | None, linked: str | None
) -> None:
    # Given a dev token (make token ... MERCHANT_ID=...) as the authorizer passes its claims
    claims = verify_token("Bearer " + issue_token("ada", ["merchant"], merchant_id=merchant))
    # Then the caller's shop is the claim when it is a merchant slug other than the platform's
    caller = caller_from_claims(claims)
    assert (caller.groups, caller.merchant_id) == (frozenset({"merchant"}), linked)


@pytest.mark.parametrize(
    ("kind", "changes", "expected"),
    [
        (ListingKind.CREATE, NEW, None),
        (ListingKind.CREATE, NEW | {"category": None}, ReasonCode.MISSING_FIELDS),
        (ListingKind.UPDATE, {"price": 900}, None),
        (ListingKind.UPDATE, {"name": ""}, ReasonCode.MISSING_FIELDS),
        (ListingKind.UPDATE, {"price": 49}, ReasonCode.PRICE_OUT_OF_BOUNDS),
        (ListingKind.UPDATE, {"price": 1_000_001}, ReasonCode.PRICE_OUT_OF_BOUNDS),
        (ListingKind.UPDATE, {"description": "Not a Counterfeit, promise"}, ReasonCode.BANNED_WORDS),
        (ListingKind.UPDATE, {"description": "replicas of the 1920 pattern"}, None),  # whole words only
        (ListingKind.UPDATE, {"tags": ["bootleg"]}, ReasonCode.BANNED_WORDS),
        (ListingKind.UPDATE, {"images": []}, ReasonCode.IMAGE_COUNT),
        (ListingKind.UPDATE, {"description": "no pictures named"}, None),
    ],
)
def test_automatic_checks(kind: ListingKind, changes: dict[str, Any], expected: ReasonCode | None) -> None:
    refusal = automatic_check(kind, changes, Config())
    assert (refusal[0] if refusal else None) is expected
    if refusal:
        assert refusal[1]  # a message the merchant can act on


def test_banned_words_come_from_config() -> None:
    config = Config.model_validate({"LISTING_BANNED_WORDS": "fake, Dupe"})
    assert automatic_check(ListingKind.UPDATE, {"name": "DUPE bag"}, config) is not None
    assert automatic_check(ListingKind.UPDATE, {"name": "replica bag"}, config) is None


def test_a_listing_id_names_its_merchant_and_sorts_by_time() -> None:
    first, second = new_listing_id("north-loom"), new_listing_id("north-loom")
    assert merchant_of(first) == "north-loom" and merchant_of("lst_../x_0") is None
    assert first[:-6] <= second[:-6] and len(first) <= 80
