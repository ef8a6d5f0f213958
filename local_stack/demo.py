"""The demo: the whole scenario over HTTP, as a client, a provider, a reviewer and ops would drive it.

Each step is a function in :data:`STEPS`; it talks to the API only over HTTP, checks what it
got, and returns one line for the timeline. Later features add their steps to the list (pay
with a signed webhook, ship, deliver, confirm, refund, review, ...). Any failed check stops the
demo with a non-zero exit.
"""

from __future__ import annotations

import statistics
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import requests

from local_stack.auth import issue_token


class DemoFailure(Exception):
    pass


@dataclass
class Demo:
    url: str
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    state: dict[str, Any] = field(default_factory=dict)
    http: requests.Session = field(default_factory=requests.Session)
    # (user, groups) → bearer token: dev tokens locally; Cognito ID tokens against a deployed stack (tools/smoke.py).
    token: Callable[[str, tuple[str, ...]], str] = issue_token

    def user(self, name: str) -> str:
        return f"{name}-{self.run_id}"

    def call(
        self,
        method: str,
        path: str,
        *,
        as_user: str | None = None,
        groups: tuple[str, ...] = (),
        expect: int = 200,
        **kwargs: Any,
    ) -> Any:
        headers = dict(kwargs.pop("headers", {}))
        if as_user:
            headers["Authorization"] = f"Bearer {self.token(self.user(as_user), groups)}"
        response = self.http.request(method, self.url + path, headers=headers, timeout=30, **kwargs)
        if response.status_code != expect:
            raise DemoFailure(f"{method} {path}: expected {expect}, got {response.status_code}: {response.text[:300]}")
        return response.json() if response.content else None

    def check(self, condition: bool, message: str) -> None:
        if not condition:
            raise DemoFailure(message)


Step = Callable[[Demo], str]


def browse(demo: Demo) -> str:
    products = demo.call("GET", "/products")["items"]
    kinds = {p["kind"] for p in products if p["active"]}
    demo.check({"virtual", "subscription", "physical"} <= kinds, f"catalog lacks a kind: {kinds}")
    demo.state["physical"] = next(p for p in products if p["kind"] == "physical" and p["active"])
    demo.state["virtual"] = next(
        p
        for p in products
        if p["kind"] == "virtual" and p["active"] and p["currency"] == demo.state["physical"]["currency"]
    )
    sku = demo.state["physical"]["sku"]
    product = demo.call("GET", f"/products/{sku}")
    return f"client browses {len(products)} products ({', '.join(sorted(kinds))}); opens {sku} at {product['price']}"


def browse_category(demo: Demo) -> str:
    counts = {entry["category"]: entry["products"] for entry in demo.call("GET", "/categories")["items"]}
    demo.check(counts.get("kitchen", 0) >= 2, f"no kitchen category to browse: {counts}")
    # Page through the category two products at a time, as an app's infinite scroll would.
    names: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"category": "kitchen", "limit": 2} | ({"cursor": cursor} if cursor else {})
        page = demo.call("GET", "/products", params=params)
        names.extend(item["name"] for item in page["items"])
        demo.check(all(item["category"] == "kitchen" for item in page["items"]), "a page mixes categories")
        pages += 1
        cursor = page["next_cursor"]
        if not cursor:
            break
    demo.check(len(names) == counts["kitchen"], f"kitchen counts {counts['kitchen']} but pages hold {len(names)}")
    shelves = ", ".join(f"{name} ({count})" for name, count in sorted(counts.items()))
    return f"client sees categories {shelves}; browses kitchen in {pages} pages: {' · '.join(names)}"


def search(demo: Demo) -> str:
    def skus(q: str) -> list[str]:
        return [item["sku"] for item in demo.call("GET", "/products", params={"q": q})["items"]]

    cafe, chinese, both, one = skus("CAFE"), skus("青花瓷"), skus("logo t-shirt"), skus("logo")
    demo.check({"cafe-au-lait-bowl", "tea-cup-jingdezhen"} <= set(cafe), f"'CAFE' found {cafe}")
    demo.check(chinese == ["tea-cup-jingdezhen"], f"'青花瓷' found {chinese}")
    demo.check(both == ["tshirt-logo-m"] and len(one) > 1, f"'logo t-shirt' found {both}, 'logo' {one}")
    demo.state["search_pick"] = both[0]
    return (
        f"client searches 'CAFE' → {', '.join(cafe)} (accents and case ignored); '青花瓷' → {chinese[0]} (bigrams); "
        f"'logo' → {len(one)} products, 'logo t-shirt' → {both[0]} (every word must match)"
    )


def needs_login(demo: Demo) -> str:
    body = demo.call("GET", "/orders", expect=401)
    demo.check(body["code"] == "UNAUTHORIZED", f"unexpected 401 body {body}")
    return "without a token, GET /orders → 401 UNAUTHORIZED"


def preferences(demo: Demo) -> str:
    prefs = {"channels": ["email"], "locale": "en", "email": f"{demo.user('client')}@example.com"}
    saved = demo.call("PUT", "/me/preferences", as_user="client", json=prefs)
    demo.check(saved["channels"] == ["email"], f"preferences not saved: {saved}")
    return f"client asks for e-mail notifications at {prefs['email']}"


def order(demo: Demo) -> str:
    physical, virtual = demo.state["physical"], demo.state["virtual"]
    body = {
        "items": [{"sku": physical["sku"], "quantity": 2}, {"sku": virtual["sku"], "quantity": 1}],
        "shipping_address": {
            "name": "Ada Lovelace",
            "line1": "12 Analytical Row",
            "city": "London",
            "postal_code": "N1 7AA",
            "country": "GB",
        },
    }
    key = str(uuid.uuid4())
    created = demo.call("POST", "/orders", as_user="client", json=body, headers={"Idempotency-Key": key}, expect=201)
    demo.check(created["status"] == "PENDING_PAYMENT", f"new order is {created['status']}")
    expected = 2 * physical["price"] + virtual["price"]
    demo.check(created["subtotal"] == expected, f"subtotal {created['subtotal']} != {expected} (server-side pricing)")
    again = demo.call("POST", "/orders", as_user="client", json=body, headers={"Idempotency-Key": key}, expect=201)
    demo.check(again["order_id"] == created["order_id"], "the same Idempotency-Key made a second order")
    demo.state["order"] = created
    return (
        f"client orders 2x {physical['sku']} + {virtual['sku']}: {created['order_id']} "
        f"total {created['total']} {created['currency']} (retry with the same key → same order)"
    )


def my_orders(demo: Demo) -> str:
    order_id = demo.state["order"]["order_id"]
    listed = demo.call("GET", "/orders?status=PENDING_PAYMENT", as_user="client")["items"]
    demo.check(any(o["order_id"] == order_id for o in listed), "the new order is not in the client's list")
    demo.call("GET", f"/orders/{order_id}", as_user="stranger", expect=404)
    return f"client lists {len(listed)} pending order(s); another user asking for it gets 404"


def timeline(demo: Demo) -> str:
    order_id = demo.state["order"]["order_id"]
    events = demo.call("GET", f"/orders/{order_id}/events", as_user="client")["items"]
    demo.check(bool(events) and events[0]["to_status"] == "PENDING_PAYMENT", f"unexpected timeline {events}")
    return "timeline: " + " → ".join(str(e["to_status"]) for e in events)


def cancel(demo: Demo) -> str:
    body = {"items": [{"sku": demo.state["virtual"]["sku"], "quantity": 1}]}
    created = demo.call("POST", "/orders", as_user="client", json=body, expect=201)
    cancelled = demo.call("POST", f"/orders/{created['order_id']}/cancel", as_user="client")
    demo.check(cancelled["status"] == "CANCELLED", f"cancel gave {cancelled['status']}")
    demo.call("POST", f"/orders/{created['order_id']}/cancel", as_user="client", expect=409)
    return f"client cancels a second order {created['order_id']} → CANCELLED; cancelling again → 409"


def wait_for(demo: Demo, what: str, probe: Callable[[], Any], timeout: float = 15.0) -> Any:
    """Poll ``probe`` until it returns something truthy: asynchronous steps (webhooks, streams)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = probe()
        if result:
            return result
        time.sleep(0.1)
    raise DemoFailure(f"timed out after {timeout:.0f} s waiting for {what}")


def wait_in_review_queue(demo: Demo, what: str, queue: str, key: str, item_id: str) -> None:
    """Poll a reviewer queue until ``item_id`` is in it: the review task stores its token first."""
    wait_for(
        demo,
        f"the {what} in the reviewer queue",
        lambda: any(
            item[key] == item_id
            for item in demo.call("GET", f"{queue}?status=PENDING_REVIEW", as_user="reviewer", groups=("reviewer",))[
                "items"
            ]
        ),
    )


def pay(demo: Demo, key: str = "order") -> str:
    order = demo.state[key]
    order_id = order["order_id"]
    intent = demo.call(
        "POST", f"/orders/{order_id}/payments", as_user="client", json={"provider": "stripe"}, expect=201
    )
    demo.check(intent["amount"] == order["total"], f"payment of {intent['amount']} for an order of {order['total']}")
    # As the app's Stripe SDK: confirm the PaymentIntent at the (fake) provider with a test card.
    stripe = demo.call("GET", "/_local/providers")["stripe"]
    confirm = demo.http.post(
        f"{stripe['api_base']}/v1/payment_intents/{intent['payment_reference']}/confirm",
        data={"payment_method": "pm_card_visa"},
        headers={"Authorization": f"Bearer {stripe['api_key']}"},
        timeout=30,
    )
    demo.check(confirm.status_code == 200, f"the provider refused the payment: {confirm.text[:200]}")
    # The provider then posts a signed payment_intent.succeeded webhook to /webhooks/stripe.
    paid = wait_for(
        demo,
        "the order to be paid",
        lambda: (o := demo.call("GET", f"/orders/{order_id}", as_user="client"))["status"] != "PENDING_PAYMENT" and o,
    )
    demo.check(paid["status"] in ("PAID", "PENDING_SHIPMENT", "COMPLETED"), f"after paying: {paid['status']}")
    ledger = demo.call("GET", f"/orders/{order_id}/payments", as_user="client")["items"]
    demo.check(any(e["outcome"] == "PAID" for e in ledger), f"no PAID entry in the payment ledger: {ledger}")
    demo.state[key] = paid
    return (
        f"client pays {intent['amount']} {intent['currency']} with Stripe ({intent['payment_reference']}); "
        f"the signed webhook marks the order {paid['status']}; ledger: {len(ledger)} entry"
    )


def order_status(demo: Demo, key: str, wanted: str) -> dict[str, Any]:
    order_id = demo.state[key]["order_id"]
    order: dict[str, Any] = wait_for(
        demo,
        f"{order_id} to be {wanted}",
        lambda: (o := demo.call("GET", f"/orders/{order_id}", as_user="client"))["status"] == wanted and o,
    )
    demo.state[key] = order
    return order


def ship(demo: Demo) -> str:
    # Paid physical goods move on to PENDING_SHIPMENT on the stream (the warehouse is told by event).
    order = order_status(demo, "order", "PENDING_SHIPMENT")
    path = f"/orders/{order['order_id']}"
    demo.call(
        "POST", f"{path}/shipments", as_user="client", json={"carrier": "DHL", "tracking_number": "X"}, expect=403
    )
    shipped = demo.call(
        "POST",
        f"{path}/shipments",
        as_user="warehouse",
        groups=("ops",),
        json={"carrier": "fakecarrier", "tracking_number": "FC0146000062"},
    )
    demo.check(shipped["status"] == "SHIPPED", f"after shipping: {shipped['status']}")
    return "paid order waits in PENDING_SHIPMENT; ops ships it with fakecarrier FC0146000062 (a client may not: 403)"


def deliver(demo: Demo) -> str:
    """The fake carrier calls back (signed) at each milestone; the client follows the parcel to delivery."""
    path = f"/orders/{demo.state['order']['order_id']}"

    def arrived() -> dict[str, Any] | None:
        tracking: dict[str, Any] = demo.call("GET", f"{path}/tracking", as_user="client")
        return tracking if tracking["status"] == "delivered" else None

    tracking = wait_for(demo, "the fake carrier's delivered callback", arrived, timeout=30.0)
    milestones = " → ".join(event["status"] for event in tracking["events"])
    delivered = order_status(demo, "order", "DELIVERED")
    confirmed = demo.call("POST", f"{path}/confirm-receipt", as_user="client")
    demo.check(confirmed["status"] == "COMPLETED", f"after confirming: {confirmed['status']}")
    demo.call("POST", f"{path}/confirm-receipt", as_user="client", expect=409)
    demo.call("POST", f"{path}/feedback", as_user="client", json={"rating": 5, "comment": "Lovely mug"}, expect=201)
    demo.state["order"] = confirmed
    return (
        f"client follows the parcel: {milestones} (signed carrier callbacks) → order {delivered['status']}; "
        "client confirms receipt → COMPLETED and rates it 5/5"
    )


def subscribe(demo: Demo) -> str:
    created = demo.call(
        "POST", "/orders", as_user="client", json={"items": [{"sku": "premium-monthly", "quantity": 1}]}, expect=201
    )
    demo.state["subscription"] = created
    pay(demo, "subscription")
    completed = order_status(demo, "subscription", "COMPLETED")
    held = {e["sku"]: e for e in demo.call("GET", "/me/entitlements", as_user="client")["items"]}
    demo.check("premium-monthly" in held and held["premium-monthly"]["active"], f"no active subscription: {held}")
    demo.check(demo.state["virtual"]["sku"] in held, f"the coins of the first order were not granted: {held}")
    return (
        f"client subscribes and pays ({completed['order_id']}); granted on the stream → COMPLETED; "
        "entitlements: "
        + ", ".join(
            f"{sku} x{e['quantity']}" + (f" until {e['expires_at'][:10]}" if e["expires_at"] else "")
            for sku, e in sorted(held.items())
        )
    )


def google_play(demo: Demo) -> str:
    """An in-app purchase in Google Play: the RTDN is verified, the purchase read with an OAuth token, acknowledged."""
    virtual = demo.state["virtual"]
    created = demo.call(
        "POST", "/orders", as_user="client", json={"items": [{"sku": virtual["sku"], "quantity": 1}]}, expect=201
    )
    start = demo.call(
        "POST", f"/orders/{created['order_id']}/payments", as_user="client", json={"provider": "google"}, expect=201
    )
    # As the app's billing library (obfuscatedAccountId = the account token), then Pub/Sub's signed push.
    google = demo.call("GET", "/_local/providers")["google"]
    bought = demo.http.post(
        f"{google['api_base']}/_local/purchases",
        json={
            "product_id": virtual["sku"],
            "account_token": start["account_token"],
            "amount": created["total"],
            "currency": created["currency"],
        },
        timeout=30,
    )
    demo.check(bought.status_code == 200, f"the store refused the purchase: {bought.text[:200]}")
    push = bought.json()["push"]
    delivered = demo.http.post(
        f"{demo.url}/webhooks/google",
        data=push["body"],
        headers={"Authorization": push["authorization"], "Content-Type": "application/json"},
        timeout=30,
    )
    demo.check(delivered.status_code == 200, f"RTDN: {delivered.status_code} {delivered.text[:200]}")
    outcome = delivered.json()["outcome"]
    demo.check(outcome == "PAID", f"RTDN outcome {outcome}")
    purchase = demo.http.get(f"{google['api_base']}/_local/purchases/{bought.json()['purchase_token']}", timeout=30)
    demo.check(purchase.json()["acknowledged"] is True, f"the purchase was not acknowledged: {purchase.text}")
    google_order = purchase.json()["order_id"]
    return (
        f"client buys {virtual['sku']} in Google Play ({created['order_id']}); the signed RTDN → {outcome}, "
        f"purchase read with the service account's OAuth token and acknowledged (Google order {google_order})"
    )


def ticket(demo: Demo) -> str:
    order_id = demo.state["order"]["order_id"]
    opened = demo.call(
        "POST",
        f"/orders/{order_id}/tickets",
        as_user="client",
        json={"category": "damage", "message": "One mug arrived chipped."},
        expect=201,
    )
    demo.call("GET", "/tickets?status=OPEN", as_user="client", expect=403)
    queue = demo.call("GET", "/tickets?status=OPEN", as_user="agent", groups=("support",))["items"]
    demo.check(any(t["ticket_id"] == opened["ticket_id"] for t in queue), "the ticket is not in the support queue")
    demo.call(
        "POST",
        f"/tickets/{opened['ticket_id']}/replies",
        as_user="agent",
        groups=("support",),
        json={"message": "Sorry! Please request a refund for the chipped mug."},
    )
    return f"client opens ticket {opened['ticket_id']} (due {opened['due_at'][:16]}); support answers from its queue"


def refund(demo: Demo) -> str:
    order = demo.state["order"]
    amount = demo.state["physical"]["price"]
    requested = demo.call(
        "POST",
        f"/orders/{order['order_id']}/refunds",
        as_user="client",
        json={"amount": amount, "reason": "One mug arrived chipped"},
        expect=202,
    )
    demo.check(requested["status"] == "PENDING_REVIEW", f"refund is {requested['status']}")
    demo.call(
        "POST",
        f"/orders/{order['order_id']}/refunds",
        as_user="client",
        json={"amount": 1, "reason": "again"},
        expect=409,
    )
    demo.state["refund"] = requested
    return (
        f"client asks for {amount} back ({requested['refund_id']}): PENDING_REVIEW, review due "
        f"{requested['review_due_at'][:16]}; a second request while it is pending → 409"
    )


def review(demo: Demo) -> str:
    refund_id = demo.state["refund"]["refund_id"]
    demo.call("GET", "/refunds?status=PENDING_REVIEW", as_user="client", expect=403)
    wait_in_review_queue(demo, "refund", "/refunds", "refund_id", refund_id)
    decided = demo.call(
        "POST",
        f"/refunds/{refund_id}/decision",
        as_user="reviewer",
        groups=("reviewer",),
        json={"decision": "approve", "note": "Photo shows the damage"},
    )
    demo.call(
        "POST",
        f"/refunds/{refund_id}/decision",
        as_user="reviewer2",
        groups=("reviewer",),
        json={"decision": "reject"},
        expect=409,
    )
    return f"reviewer finds it in the queue and approves ({decided['status']}); a second decision → 409"


def refunded(demo: Demo) -> str:
    refund_id = demo.state["refund"]["refund_id"]
    order_id = demo.state["order"]["order_id"]
    done = wait_for(
        demo,
        "the refund to be executed",
        lambda: (
            (r := demo.call("GET", f"/refunds/{refund_id}", as_user="client"))["status"] in ("SUCCEEDED", "FAILED")
            and r
        ),
        timeout=30,
    )
    demo.check(done["status"] == "SUCCEEDED", f"refund {done['status']}: {done.get('failure_cause')}")
    order = demo.call("GET", f"/orders/{order_id}", as_user="client")
    demo.check(order["refunded_total"] == done["amount"], f"refunded_total {order['refunded_total']}")
    ledger = wait_for(
        demo,
        "Stripe's refund.created and charge.refunded webhooks in the ledger",
        lambda: (
            len(
                entries := [
                    e
                    for e in demo.call("GET", f"/orders/{order_id}/payments", as_user="client")["items"]
                    if e["event_type"] in ("refund.created", "charge.refunded")
                ]
            )
            == 2
            and entries
        ),
    )
    outcomes = {e["event_type"]: e["outcome"] for e in ledger}
    demo.check(outcomes["refund.created"] in ("OWN_REFUND", "REFUND_ALREADY_RECORDED"), f"refund.created {outcomes}")
    after = demo.call("GET", f"/orders/{order_id}", as_user="client")
    demo.check(after["refunded_total"] == done["amount"], f"refunded_total {after['refunded_total']} after webhooks")
    return (
        f"Step Functions executes it at Stripe ({done['provider_refund_id']}): refund SUCCEEDED, order "
        f"{order['status']} with refunded_total {order['refunded_total']}; Stripe's refund.created is recorded as "
        f"{outcomes['refund.created']} and charge.refunded as {outcomes['charge.refunded']} (not counted twice)"
    )


def notifications(demo: Demo) -> str:
    order_id = demo.state["order"]["order_id"]
    expected = {
        "order.paid",
        "order.shipped",
        "tracking.picked_up",
        "tracking.in_transit",
        "tracking.out_for_delivery",
        "order.delivered",
        "refund.approved",
        "refund.completed",
    }

    def all_sent() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = demo.call("GET", f"/_local/notifications?order_id={order_id}")["items"]
        return found if expected <= {item["event"] for item in found} else []

    items = wait_for(demo, f"the notifications {sorted(expected)}", all_sent)
    sent = ", ".join(sorted({f"{i['event']} by {i['channel']}" for i in items}))
    latencies = notify_latencies(demo, order_id, items)
    measured = (
        f"; status write → notification sent: median {statistics.median(latencies):.0f} ms over "
        f"{len(latencies)} changes (max {max(latencies):.0f} ms)"
        if latencies
        else ""
    )
    carrier = carrier_latencies(demo, order_id, items)
    if carrier:
        measured += (
            f"; carrier callback → notification sent: median {statistics.median(carrier):.0f} ms over "
            f"{len(carrier)} milestones (max {max(carrier):.0f} ms)"
        )
    return f"{len(items)} notification(s) to the client for {order_id}: {sent}{measured}"


def carrier_latencies(demo: Demo, order_id: str, items: list[dict[str, Any]]) -> list[float]:
    """Milliseconds from the carrier's callback (its signed event time) to the milestone's notification."""
    events = demo.call("GET", f"/orders/{order_id}/tracking", as_user="client")["events"]
    first: dict[str, str] = {}
    for event in events:
        first.setdefault(f"tracking.{event['status']}", event["occurred_at"])
    first["order.delivered"] = first.get("tracking.delivered", "")
    return [
        (_instant(item["at"]) - _instant(first[item["event"]])) * 1000 for item in items if first.get(item["event"])
    ]


def notify_latencies(demo: Demo, order_id: str, items: list[dict[str, Any]]) -> list[float]:
    """Milliseconds from each status change on the order's timeline to its notification's send time."""
    timeline = demo.call("GET", f"/orders/{order_id}/events", as_user="client")["items"]
    changed_at = {f"order.{e['to_status'].lower()}": e["at"] for e in timeline if e.get("to_status")}
    return [
        (_instant(item["at"]) - _instant(changed_at[item["event"]])) * 1000
        for item in items
        if item["event"] in changed_at
    ]


def _instant(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def bus_events(demo: Demo) -> str:
    items = demo.call("GET", "/_local/events")["items"]
    return f"{len(items)} event(s) on the buses so far (/_local/events)"


def listing(demo: Demo) -> str:
    """A merchant proposes products; the checks refuse one, a reviewer approves the other, which goes on sale."""
    shop = "north-loom"
    merchant = {"Authorization": "Bearer " + issue_token(demo.user("shop"), ["merchant"], merchant_id=shop)}
    profile = {"shop_name": "North Loom", "contact_name": "Ada", "support_email": "help@northloom.example"}
    demo.call("PUT", "/merchant/profile", headers=merchant, json=profile)
    sku = f"scarf-{demo.run_id}"
    product = {
        "sku": sku,
        "kind": "physical",
        "price": 3200,
        "currency": "USD",
        "name": "Wool Scarf",
        "description": "Merino wool, 180 cm.",
        "category": "apparel",
        "images": [f"https://img.northloom.example/{sku}/1.jpg"],
        "stock": 20,
    }
    banned = product | {"name": "Replica scarf"}
    refused = demo.call("POST", "/merchant/products", headers=merchant, json=banned, expect=202)
    demo.check(refused["reason_code"] == "BANNED_WORDS", f"the banned word passed: {refused}")
    proposed = demo.call("POST", "/merchant/products", headers=merchant, json=product, expect=202)
    demo.check(proposed["status"] == "PENDING_REVIEW", f"proposed listing is {proposed['status']}")
    demo.call("GET", f"/products/{sku}", expect=404)  # not on sale while under review
    listing_id = proposed["listing_id"]
    wait_in_review_queue(demo, "listing", "/listings", "listing_id", listing_id)
    decided = demo.call(
        "POST",
        f"/listings/{listing_id}/decision",
        as_user="reviewer",
        groups=("reviewer",),
        json={"decision": "approve", "note": "Pictures and price look right"},
    )
    live = demo.call("GET", f"/products/{sku}")
    demo.check(live["merchant_id"] == shop, f"the product is {live['merchant_id']}'s")
    return (
        f"merchant {shop} proposes 2 products: one refused by the checks ({refused['reason_code']}), "
        f"one {decided['status']} by a reviewer and on sale at {live['price']}"
    )


def fill_cart(demo: Demo) -> str:
    # One product found by search (north-loom) and one from the game-currency shelf (pixel-forge).
    found = demo.state["search_pick"]
    coins = next(
        item["sku"]
        for item in demo.call("GET", "/products", params={"category": "game-currency"})["items"]
        if item["currency"] == "USD"
    )
    demo.call("PUT", f"/cart/items/{found}", as_user="shopper", json={"quantity": 2})
    demo.call("PUT", f"/cart/items/{coins}", as_user="shopper", json={"quantity": 1})
    cart = demo.call("GET", "/cart", as_user="shopper")
    merchants = {line["merchant_id"] for line in cart["lines"]}
    demo.check(len(merchants) == 2 and all(line["available"] for line in cart["lines"]), f"cart: {cart}")
    demo.state["cart_version"] = cart["version"]
    lines = ", ".join(f"{line['quantity']}x {line['sku']} ({line['merchant_id']})" for line in cart["lines"])
    return f"shopper fills a cart from {len(merchants)} merchants: {lines}; version {cart['version']}"


def checkout(demo: Demo) -> str:
    body = {
        "cart_version": demo.state["cart_version"],
        "shipping_address": {
            "name": "Grace Hopper",
            "line1": "1 Compiler Way",
            "city": "Arlington",
            "postal_code": "22201",
            "country": "US",
        },
    }
    key = {"Idempotency-Key": str(uuid.uuid4())}
    orders = demo.call("POST", "/cart/checkout", as_user="shopper", json=body, headers=key, expect=201)["orders"]
    demo.check(len({order["merchant_id"] for order in orders}) == 2, f"checkout made {orders}")
    again = demo.call("POST", "/cart/checkout", as_user="shopper", json=body, headers=key, expect=201)["orders"]
    demo.check([o["order_id"] for o in again] == [o["order_id"] for o in orders], "a retried checkout made new orders")
    demo.check(demo.call("GET", "/cart", as_user="shopper")["lines"] == [], "the cart was not emptied")
    made = "; ".join(
        f"{order['merchant_id']}: {order['order_id']} {order['total']} {order['currency']}"
        f" (shipping {order['shipping_fee']})"
        for order in orders
    )
    return f"shopper checks out into {len(orders)} orders, one per merchant: {made} (retry → same orders; cart emptied)"


STEPS: list[tuple[str, Step]] = [
    ("browse", browse),
    ("category", browse_category),
    ("search", search),
    ("login", needs_login),
    ("settings", preferences),
    ("order", order),
    ("my orders", my_orders),
    ("timeline", timeline),
    ("cancel", cancel),
    ("cart", fill_cart),
    ("checkout", checkout),
    ("pay", pay),
    ("ship", ship),
    ("track", deliver),
    ("subscribe", subscribe),
    ("google", google_play),
    ("ticket", ticket),
    ("refund", refund),
    ("review", review),
    ("refunded", refunded),
    ("notify", notifications),
    ("events", bus_events),
    ("listing", listing),
]


def run_demo(url: str, steps: list[tuple[str, Step]] | None = None, demo: Demo | None = None) -> int:
    demo = demo or Demo(url.rstrip("/"))
    started = time.perf_counter()
    print(f"demo against {demo.url} (run {demo.run_id})")
    for name, step in steps or STEPS:
        step_started = time.perf_counter()
        try:
            line = step(demo)
        except (DemoFailure, requests.RequestException, KeyError, StopIteration, ValueError) as exc:
            print(f"[{time.perf_counter() - started:6.2f}s] {name:<10} FAILED: {exc}")
            return 1
        took = (time.perf_counter() - step_started) * 1000
        print(f"[{time.perf_counter() - started:6.2f}s] {name:<10} {line} ({took:.0f} ms)")
    print(f"demo passed: {len(steps or STEPS)} steps in {time.perf_counter() - started:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(run_demo(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:3000"))
