"""Merchants on moto with the real handlers: profile, their own orders (GSI5), shipping their own orders;
another merchant's order is 404 everywhere; ops keep their powers."""

from __future__ import annotations

from typing import Any

from local_stack.runtime import LambdaRuntime
from orders.dal.repos import orders_repository
from orders.lifecycle import Action
from orders.logic import transitions
from tests.conftest import api_event
from tests.integration.conftest import Api
from tests.integration.helpers import ADDRESS, mark_paid, order_item, placed

NORTH = "north-loom"  # sells tshirt-logo-m, mug-classic (physical)
PIXEL = "pixel-forge"  # sells coins-500 (virtual), premium-monthly
SHIRT = {"items": [{"sku": "tshirt-logo-m", "quantity": 1}], "shipping_address": ADDRESS}
COINS = {"items": [{"sku": "coins-500", "quantity": 1}]}
SHIPMENT = {"carrier": "DHL", "tracking_number": "JD014600006281230704"}


def as_merchant(name: str, merchant: str | None, *, user: str = "merchant-user", **kwargs: Any) -> dict[str, Any]:
    """events/<name>.json sent by a user of the merchant group whose ID token carries ``merchant``."""
    event = api_event(name, user=user, groups=("merchant",), **kwargs)
    claims = event["requestContext"]["authorizer"]["claims"]
    claims.pop("custom:merchant_id", None)
    if merchant is not None:
        claims["custom:merchant_id"] = merchant
    return event


def paid(api: Api, runtime: LambdaRuntime, body: dict[str, Any]) -> dict[str, Any]:
    order = placed(api, body)
    mark_paid(runtime, order["order_id"])
    return order


def to_ship(api: Api, runtime: LambdaRuntime) -> dict[str, Any]:
    """A paid shirt order of north-loom that fulfilment moved to PENDING_SHIPMENT (the same transition)."""
    order = paid(api, runtime, SHIRT)
    transitions.change(orders_repository(), order["order_id"], Action.START_FULFILMENT, actor="test:fulfilment")
    return order


def merchant_orders(api: Api, merchant: str, **query: str) -> Any:
    return api(as_merchant("merchant_list_orders", merchant, query=query))


# --- isolation -----------------------------------------------------------------------------------
def test_a_merchant_sees_only_their_own_orders(api: Api, runtime: LambdaRuntime, ddb: Any) -> None:
    # Given a paid shirt order (north-loom) and a paid coins order (pixel-forge)
    shirt = paid(api, runtime, SHIRT)
    coins = paid(api, runtime, COINS)
    # When each merchant lists their orders
    north = merchant_orders(api, NORTH)
    pixel = merchant_orders(api, PIXEL)
    # Then each sees exactly their own
    assert north.status == 200, north.body
    assert [o["order_id"] for o in north.body["items"]] == [shirt["order_id"]]
    assert [o["order_id"] for o in pixel.body["items"]] == [coins["order_id"]]
    # And a status filter is one partition of GSI5
    paid_orders = merchant_orders(api, NORTH, status="PAID")
    assert [o["order_id"] for o in paid_orders.body["items"]] == [shirt["order_id"]]
    assert merchant_orders(api, NORTH, status="SHIPPED").body["items"] == []
    assert order_item(ddb, shirt["order_id"])["GSI5PK"]["S"] == f"MERCHANT#{NORTH}#PAID"


def test_merchant_orders_page_newest_first_and_a_cursor_is_the_merchants_own(api: Api, runtime: LambdaRuntime) -> None:
    # Given three shirt orders of north-loom (two paid, one unpaid)
    first = paid(api, runtime, SHIRT)["order_id"]
    second = placed(api, SHIRT)["order_id"]
    third = paid(api, runtime, SHIRT)["order_id"]
    # When north-loom pages through all of them, one at a time
    seen, cursor = [], None
    for _ in range(4):
        page = merchant_orders(api, NORTH, limit="1", **({"cursor": cursor} if cursor else {}))
        assert page.status == 200, page.body
        seen += [o["order_id"] for o in page.body["items"]]
        cursor = page.body["next_cursor"]
        if cursor is None:
            break
    # Then newest first across the status partitions, each once
    assert seen == [third, second, first]
    # And north-loom's cursor is no good to pixel-forge
    cursor = merchant_orders(api, NORTH, limit="1").body["next_cursor"]
    refused = merchant_orders(api, PIXEL, limit="1", cursor=cursor)
    assert (refused.status, refused.body["code"]) == (400, "INVALID_CURSOR")
    # And a window from after every order is empty
    assert merchant_orders(api, NORTH, **{"from": "2999-01-01T00:00:00Z"}).body["items"] == []


def test_a_merchant_ships_their_own_order_but_another_merchants_is_404(api: Api, runtime: LambdaRuntime) -> None:
    # Given a shirt order of north-loom waiting to be shipped
    order = to_ship(api, runtime)
    path = {"order_id": order["order_id"]}
    # When pixel-forge tries to ship it
    other = api(as_merchant("shipping_ship", PIXEL, body=SHIPMENT, path_params=path))
    # Then it does not exist for them, and nothing changed; nor can they read it or its timeline
    assert (other.status, other.body["code"]) == (404, "ORDER_NOT_FOUND")
    for name in ("orders_get_order", "orders_get_timeline"):
        read = api(as_merchant(name, PIXEL, path_params=path))
        assert (read.status, read.body["code"]) == (404, "ORDER_NOT_FOUND")
    assert api(api_event("orders_get_order", path_params=path)).body["status"] == "PENDING_SHIPMENT"
    # When north-loom ships it
    shipped = api(as_merchant("shipping_ship", NORTH, body=SHIPMENT, path_params=path))
    # Then it is shipped by that merchant's user, with the carrier and tracking number
    assert shipped.status == 200, shipped.body
    assert shipped.body["status"] == "SHIPPED"
    assert shipped.body["shipment"]["tracking_number"] == SHIPMENT["tracking_number"]
    events = api(api_event("orders_get_timeline", path_params=path)).body["items"]
    assert events[-1]["actor"] == f"merchant:{NORTH}:merchant-user"
    # And a merchant user may not record delivery (ops or the carrier do)
    delivery = api(as_merchant("shipping_deliver", NORTH, path_params=path))
    assert (delivery.status, delivery.body["code"]) == (403, "FORBIDDEN")


def test_ops_keep_their_powers_over_every_merchants_orders(api: Api, runtime: LambdaRuntime) -> None:
    # Given a shirt order of north-loom waiting to be shipped
    order = to_ship(api, runtime)
    path = {"order_id": order["order_id"]}
    # When ops ship and deliver it
    shipped = api(api_event("shipping_ship", user="ops-1", groups=("ops",), body=SHIPMENT, path_params=path))
    delivered = api(api_event("shipping_deliver", user="ops-1", groups=("ops",), path_params=path))
    # Then both work as before
    assert (shipped.status, delivered.status) == (200, 200), (shipped.body, delivered.body)
    assert delivered.body["status"] == "DELIVERED"


def test_a_merchant_user_without_a_shop_is_refused(api: Api, runtime: LambdaRuntime) -> None:
    order = to_ship(api, runtime)
    # Given users of the merchant group whose token carries no shop, or the platform's, or a malformed one
    for merchant in (None, "platform", "North Loom"):
        listed = api(as_merchant("merchant_list_orders", merchant))
        path = {"order_id": order["order_id"]}
        shipped = api(as_merchant("shipping_ship", merchant, body=SHIPMENT, path_params=path))
        # Then they are told to get linked, and nothing is shown or changed
        assert (listed.status, listed.body["code"]) == (403, "MERCHANT_NOT_LINKED")
        assert (shipped.status, shipped.body["code"]) == (403, "MERCHANT_NOT_LINKED")
    # And a plain user carrying the claim (not in the group) is not a merchant
    plain = api_event("merchant_list_orders", user="plain")
    plain["requestContext"]["authorizer"]["claims"]["custom:merchant_id"] = NORTH
    assert api(plain).status == 403


# --- profile -------------------------------------------------------------------------------------
def test_a_merchant_sets_and_reads_their_profile(api: Api) -> None:
    # Given a merchant without a profile
    missing = api(as_merchant("merchant_get_profile", NORTH))
    assert (missing.status, missing.body["code"]) == (404, "MERCHANT_PROFILE_NOT_FOUND")
    # When they set it (twice: the second replaces the first)
    body = {"shop_name": "North Loom", "contact_name": "Ada", "support_email": "help@northloom.example"}
    assert api(as_merchant("merchant_put_profile", NORTH, body=body)).status == 200
    changed = api(as_merchant("merchant_put_profile", NORTH, body=body | {"shop_name": "North Loom Ltd"}))
    # Then they read what they set, and another merchant does not see it
    assert changed.status == 200, changed.body
    read = api(as_merchant("merchant_get_profile", NORTH)).body
    assert (read["merchant_id"], read["shop_name"], read["support_email"]) == (
        NORTH,
        "North Loom Ltd",
        "help@northloom.example",
    )
    assert api(as_merchant("merchant_get_profile", PIXEL)).status == 404
    # And a bad e-mail or an unknown field is a 422 with its location
    bad = api(as_merchant("merchant_put_profile", NORTH, body=body | {"support_email": "nope"}))
    assert (bad.status, bad.body["details"][0]["loc"]) == (422, ["body", "support_email"])
    extra = api(as_merchant("merchant_put_profile", NORTH, body=body | {"merchant_id": PIXEL}))
    assert extra.status == 422
