"""Write events/*.json: one API Gateway REST proxy event per route of template.yaml.

The shape is that of `sam local generate-event apigateway aws-proxy`, with the Cognito
authorizer's claims in requestContext. Run again after adding a route: `make events`.
Tests load these files and vary them; `sam local invoke -e` uses them as they are.
"""

from __future__ import annotations

import base64
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from local_stack.apigw import Match, Route, build_event, routes_of  # noqa: E402
from local_stack.template import function_specs, load_template  # noqa: E402

USER = "user-0001"
SAMPLE_TIME = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)
ORDER = "ord_0123456789abcdef0123456789abcdef"
TICKET = f"tkt-{ORDER}-0a1b2c3d4e5f"
REFUND = "rf_0123456789abcdef0123456789abcdef_a1b2c3d4e5f6"

# Per route: a sample request a client would send.
SAMPLES: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/products"): {"name": "catalog_list_products"},
    ("GET", "/products/{sku}"): {"name": "catalog_get_product", "path_params": {"sku": "coins-500"}},
    ("POST", "/orders"): {
        "name": "create_order",
        "headers": {"Idempotency-Key": "9d0c4c1e-5a43-4b8e-9a51-3f1f2a0e7c11"},
        "body": {
            "items": [{"sku": "tshirt-logo-m", "quantity": 2}, {"sku": "coins-500", "quantity": 1}],
            "shipping_address": {
                "name": "Ada Lovelace",
                "line1": "12 Analytical Row",
                "city": "London",
                "postal_code": "N1 7AA",
                "country": "GB",
            },
        },
    },
    ("GET", "/orders"): {"name": "order_query_list_orders", "query": {"status": "PENDING_PAYMENT", "limit": "10"}},
    ("GET", "/orders/{order_id}"): {"name": "order_query_get_order", "path_params": {"order_id": ORDER}},
    ("GET", "/orders/{order_id}/events"): {"name": "order_query_get_events", "path_params": {"order_id": ORDER}},
    ("POST", "/orders/{order_id}/cancel"): {"name": "order_query_cancel_order", "path_params": {"order_id": ORDER}},
    ("GET", "/cart"): {"name": "cart_get_cart"},
    ("DELETE", "/cart"): {"name": "cart_delete_cart"},
    ("POST", "/cart/checkout"): {
        "name": "cart_checkout",
        "headers": {"Idempotency-Key": "checkout-0001"},
        "body": {"cart_version": 2},
    },
    ("PUT", "/cart/items/{sku}"): {
        "name": "cart_put_item",
        "path_params": {"sku": "mug-classic"},
        "body": {"quantity": 2},
    },
    ("GET", "/me/preferences"): {"name": "preferences_get_preferences"},
    ("PUT", "/me/preferences"): {
        "name": "preferences_put_preferences",
        "body": {"channels": ["push", "email"], "locale": "zh-CN", "email": "ada@example.com"},
    },
    ("POST", "/me/devices"): {
        "name": "preferences_register_device",
        "body": {"platform": "ios", "token": "740f4707bebcf74f9b7c25d48e3358945f6aa01da5ddb387462c7eaf61bb78ad"},
    },
    ("POST", "/orders/{order_id}/payments"): {
        "name": "payments_start_payment",
        "path_params": {"order_id": ORDER},
        "body": {"provider": "stripe"},
    },
    ("GET", "/orders/{order_id}/payments"): {"name": "payments_list_payments", "path_params": {"order_id": ORDER}},
    # Webhooks: the signatures here are placeholders (tests sign their own bodies with test keys).
    ("POST", "/webhooks/stripe"): {
        "name": "payment_webhook_stripe",
        "headers": {"Stripe-Signature": "t=1795320000,v1=" + "0" * 64},
        "body": {
            "id": "evt_0123456789",
            "object": "event",
            "type": "payment_intent.succeeded",
            "livemode": False,
            "created": 1795320000,
            "data": {
                "object": {
                    "id": "pi_0123456789",
                    "object": "payment_intent",
                    "amount": 1499,
                    "currency": "usd",
                    "status": "succeeded",
                    "metadata": {"order_id": ORDER},
                }
            },
        },
    },
    ("POST", "/webhooks/apple"): {
        "name": "payment_webhook_apple",
        "body": {"signedPayload": "eyJhbGciOiJFUzI1NiIsIng1YyI6WyIuLi4iXX0.e30.signature"},
    },
    ("POST", "/webhooks/google"): {
        "name": "payment_webhook_google",
        "headers": {"Authorization": "Bearer eyJhbGciOiJSUzI1NiJ9.e30.signature"},
        "body": {
            "message": {
                "data": base64.b64encode(
                    b'{"version":"1.0","packageName":"com.example.orders","testNotification":{"version":"1.0"}}'
                ).decode(),
                "messageId": "1234567890",
                "publishTime": "2026-11-22T04:00:00Z",
            },
            "subscription": "projects/example/subscriptions/play-rtdn",
        },
    },
    # fulfilment and after-sales
    ("POST", "/orders/{order_id}/shipments"): {
        "name": "shipping_ship",
        "path_params": {"order_id": ORDER},
        "body": {"carrier": "DHL", "tracking_number": "JD014600006281230704"},
    },
    ("POST", "/orders/{order_id}/delivery"): {"name": "shipping_deliver", "path_params": {"order_id": ORDER}},
    # The signature is a placeholder (tests sign their own bodies with orders.logic.carriers.sign).
    ("POST", "/webhooks/carriers/{carrier}"): {
        "name": "carrier_webhook",
        "path_params": {"carrier": "fakecarrier"},
        "headers": {"X-Carrier-Signature": "t=1795320000,v1=" + "0" * 64},
        "body": {
            "event_id": "evt_carrier_0001",
            "reference": ORDER,
            "tracking_number": "JD014600006281230704",
            "status": "in_transit",
            "occurred_at": "2026-11-28T12:00:00Z",
            "location": "Leipzig hub",
        },
    },
    ("GET", "/orders/{order_id}/tracking"): {"name": "carrier_tracking", "path_params": {"order_id": ORDER}},
    ("GET", "/shipments"): {"name": "shipping_queue", "query": {"status": "PENDING_SHIPMENT", "limit": "20"}},
    ("POST", "/orders/{order_id}/confirm-receipt"): {
        "name": "shipping_confirm_receipt",
        "path_params": {"order_id": ORDER},
    },
    ("GET", "/me/entitlements"): {"name": "entitlements_list"},
    ("POST", "/orders/{order_id}/feedback"): {
        "name": "after_sales_feedback",
        "path_params": {"order_id": ORDER},
        "body": {"rating": 5, "comment": "Arrived quickly, great mug."},
    },
    ("POST", "/orders/{order_id}/tickets"): {
        "name": "after_sales_open_ticket",
        "path_params": {"order_id": ORDER},
        "body": {"category": "delivery", "message": "The parcel has not arrived yet."},
    },
    ("GET", "/tickets"): {"name": "after_sales_ticket_queue", "query": {"status": "OPEN", "limit": "20"}},
    ("GET", "/tickets/{ticket_id}"): {"name": "after_sales_get_ticket", "path_params": {"ticket_id": TICKET}},
    ("POST", "/tickets/{ticket_id}/replies"): {
        "name": "after_sales_reply",
        "path_params": {"ticket_id": TICKET},
        "body": {"message": "Thanks, we are checking with the carrier."},
    },
    ("POST", "/tickets/{ticket_id}/resolve"): {"name": "after_sales_resolve", "path_params": {"ticket_id": TICKET}},
    ("POST", "/products"): {
        "name": "catalog_admin_create_product",
        "body": {
            "sku": "poster-a2",
            "name": "Poster (A2)",
            "description": "Matte print.",
            "kind": "physical",
            "price": 1500,
            "currency": "USD",
            "stock": 100,
        },
    },
    ("PATCH", "/products/{sku}"): {
        "name": "catalog_admin_update_product",
        "path_params": {"sku": "mug-classic"},
        "body": {"price": 1300, "stock": 40},
    },
    ("POST", "/orders/{order_id}/refunds"): {
        "name": "refund_request_create",
        "path_params": {"order_id": ORDER},
        "body": {"amount": 1500, "reason": "The shirt arrived torn."},
    },
    ("GET", "/orders/{order_id}/refunds"): {
        "name": "refund_request_list_for_order",
        "path_params": {"order_id": ORDER},
    },
    ("GET", "/refunds/{refund_id}"): {"name": "refund_request_get", "path_params": {"refund_id": REFUND}},
    ("GET", "/refunds"): {"name": "refund_review_queue", "query": {"status": "PENDING_REVIEW", "limit": "20"}},
    ("GET", "/users/{user_id}/refunds"): {"name": "refund_review_user_refunds", "path_params": {"user_id": USER}},
    ("POST", "/refunds/{refund_id}/decision"): {
        "name": "refund_review_decide",
        "path_params": {"refund_id": REFUND},
        "body": {"decision": "approve", "note": "Photo shows the damage."},
    },
    ("GET", "/reports/summary"): {
        "name": "reports_summary",
        "query": {"from": "2026-11-01T00:00:00Z", "to": "2026-11-21T23:59:59Z"},
    },
}


def claims(user_id: str, groups: list[str]) -> dict[str, Any]:
    claim = {
        "sub": user_id,
        "cognito:username": user_id,
        "email": f"{user_id}@example.com",
        "email_verified": "true",
        "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_EXAMPLE",
        "aud": "exampleclientid",
        "token_use": "id",
        "auth_time": "1763780000",
        "iat": "1763780000",
        "exp": "Sat Nov 22 04:13:20 UTC 2025",
    }
    if groups:
        claim["cognito:groups"] = ",".join(groups)
    return claim


def proxy_event(
    route: Route,
    *,
    path_params: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    body: Any = None,
) -> dict[str, Any]:
    """The event the API would send for this request: built by the local stack's own API Gateway."""
    path = route.resource
    for name, value in (path_params or {}).items():
        path = path.replace("{" + name + "}", value)
    all_headers = {
        "Accept": "application/json",
        "Host": "abcdef1234.execute-api.us-east-1.amazonaws.com",
        "User-Agent": "orders-app/1.0",
        "X-Forwarded-For": "203.0.113.7",
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https",
        **({"Content-Type": "application/json"} if body is not None else {}),
        **({"Authorization": "Bearer eyJraWQiOiJleGFtcGxlIn0.e30.signature"} if route.authorized else {}),
        **(headers or {}),
    }
    event = build_event(
        method=route.method,
        raw_path=path + ("?" + urlencode(query) if query else ""),
        headers=list(all_headers.items()),
        body=json.dumps(body).encode() if body is not None else b"",
        match=Match(route, dict(path_params or {})),
        claims=claims(USER, []) if route.authorized else None,
        source_ip="203.0.113.7",
        request_id="c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
        now=SAMPLE_TIME,
    )
    # As deployed: the stage is the environment's, and API Gateway names the path with the stage.
    event["requestContext"] |= {"stage": "dev", "path": f"/dev{path}", "apiId": "abcdef1234", "resourceId": "a1b2c3"}
    return event


def main() -> None:
    out = ROOT / "events"
    out.mkdir(exist_ok=True)
    routes = {(r.method, r.resource): r for r in routes_of(function_specs(load_template()).values())}
    missing = sorted(set(routes) - set(SAMPLES))
    if missing:
        raise SystemExit(f"no sample for routes {missing}: add them to SAMPLES")
    for key, route in sorted(routes.items()):
        sample = SAMPLES[key]
        event = proxy_event(
            route,
            path_params=sample.get("path_params"),
            query=sample.get("query"),
            headers=sample.get("headers"),
            body=sample.get("body"),
        )
        (out / f"{sample['name']}.json").write_text(json.dumps(event, indent=2) + "\n")
        print(f"events/{sample['name']}.json  {route.method} {route.resource}")


if __name__ == "__main__":
    main()
