"""A local fake of Google: the OAuth token endpoint, the Play Developer API, and Pub/Sub push tokens.

What the real services require, it requires:

* ``POST /token`` trades a service-account JWT (``grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer``,
  RS256-signed by the key it issued, ``aud`` = Google's token URL, scope ``androidpublisher``) for an
  access token, as ``oauth2.googleapis.com/token`` does for google-auth;
* every Play Developer API call needs ``Authorization: Bearer <that token>``, else 401
  ``UNAUTHENTICATED`` in Google's error JSON (the real API answers the same to a call with no
  or a wrong token); a token without the androidpublisher scope gets 403 ``PERMISSION_DENIED``;
* the Play resources have the v3 shapes: ``purchases.products`` (ProductPurchase),
  ``purchases.productsv2`` (ProductPurchaseV2), ``purchases.subscriptionsv2`` (SubscriptionPurchaseV2),
  ``orders`` (Order, with ``total`` as google.type.Money) and the two ``:acknowledge`` methods.
  A ProductPurchase carries no price (the real one does not): the amount is the order's total.

It also signs Pub/Sub push OIDC tokens with a key whose certificate it serves at ``/oauth2/v1/certs``
(the local stack's ``GOOGLE_OIDC_CERTS_URL``), so RTDN can be delivered locally end to end.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import secrets
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from local_stack.fake_http import JsonApiHandler

log = logging.getLogger("local_stack.google")

SCOPE = "https://www.googleapis.com/auth/androidpublisher"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# The audience Google requires in a service account's assertion, whichever URL the token is asked at.
TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"  # noqa: S105 - a URL, not a secret
PLAY_CLIENT_EMAIL = "play-api@local-only.iam.gserviceaccount.com"
PUSH_SERVICE_ACCOUNT = "rtdn-push@local-only.iam.gserviceaccount.com"
_PREFIX = "/androidpublisher/v3/applications/"
_ALLOWED_LOCATIONS_PREFIX = "/v1/projects/-/serviceAccounts/"
# What IAM Credentials answers for an account without a regional boundary (google-auth's own no-op value).
NO_REGIONAL_BOUNDARY = "0x0"


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _certificate(key: rsa.RSAPrivateKey, name: str) -> str:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def money(minor: int, currency: str, exponent: int = 2) -> dict[str, Any]:
    """A google.type.Money of ``minor`` units."""
    units, rest = divmod(minor, 10**exponent)
    return {"currencyCode": currency, "units": str(units), "nanos": rest * 10 ** (9 - exponent)}


class GoogleError(Exception):
    def __init__(self, status: int, code: str, message: str, *, oauth: bool = False) -> None:
        super().__init__(message)
        self.status = status
        # The token endpoint answers in OAuth 2.0's error shape; the APIs in Google's JSON error shape.
        self.body: dict[str, Any] = (
            {"error": code, "error_description": message}
            if oauth
            else {"error": {"code": status, "message": message, "status": code}}
        )


@dataclass
class FakeGooglePlay:
    """State and behaviour; :class:`FakeGooglePlayServer` serves it over HTTP."""

    base_url: str = ""
    package: str = "com.example.orders"
    push_audience: str = ""  # the Pub/Sub push subscription's audience (the webhook URL)
    _service_key: rsa.RSAPrivateKey = field(default_factory=_key)
    _push_key: rsa.RSAPrivateKey = field(default_factory=_key)
    _push_kid: str = field(default_factory=lambda: secrets.token_hex(8))
    access_tokens: dict[str, str] = field(default_factory=dict)  # token -> scope
    purchases: dict[str, dict[str, Any]] = field(default_factory=dict)  # purchase token -> purchase
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    acknowledged: list[str] = field(default_factory=list)
    requests: list[tuple[str, str, int]] = field(default_factory=list)
    _lock: threading.RLock = field(default_factory=threading.RLock)

    # --- what the product is configured with ----------------------------------------------------
    @property
    def token_uri(self) -> str:
        return f"{self.base_url}/token"

    def service_account_key(self, token_uri: str | None = None) -> str:
        """The JSON key file of the Play API's service account (the local stack puts it in its secret)."""
        return json.dumps(
            {
                "type": "service_account",
                "project_id": "local-only",
                "private_key_id": "local-only-key",
                "private_key": _pem(self._service_key),
                "client_email": PLAY_CLIENT_EMAIL,
                "client_id": "100000000000000000001",
                "token_uri": token_uri or self.token_uri,
            }
        )

    def push_token(self, audience: str, email: str = PUSH_SERVICE_ACCOUNT, **claims: Any) -> str:
        """A Pub/Sub push subscription's OIDC token (``Authorization: Bearer ...``)."""
        now = int(time.time())
        payload = {
            "iss": "https://accounts.google.com",
            "aud": audience,
            "email": email,
            "email_verified": True,
            "sub": "100000000000000000002",
            "iat": now,
            "exp": now + 3600,
        } | claims
        return jwt.encode(payload, self._push_key, algorithm="RS256", headers={"kid": self._push_kid})

    def rtdn(self, notification: Mapping[str, Any], message_id: str | None = None) -> str:
        """A Pub/Sub push body carrying a developer notification for this package."""
        data = {"version": "1.0", "packageName": self.package, "eventTimeMillis": str(int(time.time() * 1000))}
        data |= dict(notification)
        message = {
            "data": base64.b64encode(json.dumps(data).encode()).decode(),
            "messageId": message_id or str(secrets.randbelow(10**16)),
            "publishTime": dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z"),
        }
        return json.dumps({"message": message, "subscription": "projects/local-only/subscriptions/rtdn"})

    # --- purchases made in the store (what the app's billing library would do) ------------------
    def _order(self, token: str, product_id: str, amount: int, currency: str) -> str:
        order_id = f"GPA.{secrets.randbelow(10**4):04d}-{secrets.randbelow(10**4):04d}-{secrets.randbelow(10**4):04d}"
        self.orders[order_id] = {
            "orderId": order_id,
            "purchaseToken": token,
            "state": "PROCESSED",
            "createTime": dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z"),
            "total": money(amount, currency),
            "tax": money(0, currency),
            "lineItems": [{"productId": product_id, "listingPrice": money(amount, currency)}],
        }
        return order_id

    def buy_product(self, product_id: str, account_token: str, amount: int, currency: str) -> str:
        token = secrets.token_urlsafe(24)
        with self._lock:
            order_id = self._order(token, product_id, amount, currency)
            self.purchases[token] = {
                "kind": "products",
                "productId": product_id,
                "orderId": order_id,
                "obfuscatedExternalAccountId": account_token,
                "acknowledged": False,
                "purchaseState": 0,
            }
        return token

    def subscribe(self, product_id: str, account_token: str, amount: int, currency: str, days: int = 30) -> str:
        token = secrets.token_urlsafe(24)
        with self._lock:
            order_id = self._order(token, product_id, amount, currency)
            self.purchases[token] = {
                "kind": "subscriptions",
                "productId": product_id,
                "orderId": order_id,
                "obfuscatedExternalAccountId": account_token,
                "acknowledged": False,
                "expiry": dt.datetime.now(dt.UTC) + dt.timedelta(days=days),
                "price": money(amount, currency),
            }
        return token

    def void(self, token: str) -> dict[str, Any]:
        """Google refunded the purchase: its order is REFUNDED; the voidedPurchaseNotification to send."""
        with self._lock:
            purchase = self.purchases[token]
            self.orders[purchase["orderId"]]["state"] = "REFUNDED"
            product_type = 1 if purchase["kind"] == "subscriptions" else 2
        return {
            "voidedPurchaseNotification": {
                "purchaseToken": token,
                "orderId": purchase["orderId"],
                "productType": product_type,
                "refundType": 1,
            }
        }

    # --- the HTTP API ------------------------------------------------------------------------------
    def request(self, method: str, path: str, headers: Mapping[str, str], body: str) -> tuple[int, dict[str, Any]]:
        route = urlsplit(path).path
        try:
            if route == "/token" and method == "POST":
                answer = 200, self._token(body)
            elif route == "/_local/purchases" and method == "POST":
                answer = 200, self._local_purchase(json.loads(body or "{}"))
            elif route.startswith("/_local/purchases/") and method == "GET":
                purchase = self._purchase(route.rsplit("/", 1)[1])
                answer = 200, {"acknowledged": purchase["acknowledged"], "order_id": purchase["orderId"]}
            elif route == "/oauth2/v1/certs" and method == "GET":
                answer = 200, {self._push_kid: _certificate(self._push_key, "local-only-google-push")}
            elif (
                route.startswith(_ALLOWED_LOCATIONS_PREFIX) and route.endswith("/allowedLocations") and method == "GET"
            ):
                answer = 200, self._allowed_locations(route, {k.lower(): v for k, v in headers.items()})
            else:
                self._authorize({k.lower(): v for k, v in headers.items()})
                answer = 200, self._play(method, route)
        except GoogleError as exc:
            answer = exc.status, exc.body
        with self._lock:
            self.requests.append((method, route, answer[0]))
        return answer

    def _local_purchase(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """LOCAL ONLY: what the app's billing library and Pub/Sub would do: buy, then the signed RTDN push."""
        try:
            product, account = str(params["product_id"]), str(params["account_token"])
            amount, currency = int(params["amount"]), str(params["currency"])
        except (KeyError, TypeError, ValueError) as exc:
            raise GoogleError(400, "INVALID_ARGUMENT", f"bad purchase: {exc}") from exc
        if params.get("subscription"):
            token = self.subscribe(product, account, amount, currency)
            note: dict[str, Any] = {
                "subscriptionNotification": {"notificationType": 4, "purchaseToken": token, "subscriptionId": product}
            }
        else:
            token = self.buy_product(product, account, amount, currency)
            note = {"oneTimeProductNotification": {"notificationType": 1, "purchaseToken": token, "sku": product}}
        return {
            "purchase_token": token,
            "push": {"body": self.rtdn(note), "authorization": f"Bearer {self.push_token(self.push_audience)}"},
        }

    def _token(self, body: str) -> dict[str, Any]:
        form = dict(parse_qsl(body))
        if form.get("grant_type") != JWT_BEARER or not form.get("assertion"):
            raise GoogleError(400, "unsupported_grant_type", "Invalid grant_type or missing assertion.", oauth=True)
        try:
            claims = jwt.decode(
                form["assertion"],
                self._service_key.public_key(),
                algorithms=["RS256"],
                audience=TOKEN_AUDIENCE,
                options={"require": ["iss", "aud", "exp", "iat"]},
            )
        except jwt.PyJWTError as exc:
            raise GoogleError(400, "invalid_grant", f"Invalid JWT Signature: {exc}", oauth=True) from exc
        if claims.get("iss") != PLAY_CLIENT_EMAIL:
            raise GoogleError(400, "invalid_grant", "Invalid issuer.", oauth=True)
        token = "ya29.local-only-" + secrets.token_urlsafe(24)
        with self._lock:
            self.access_tokens[token] = str(claims.get("scope", ""))
        return {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}

    def _authorize(self, headers: Mapping[str, str], needs: str | None = SCOPE) -> None:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        scope = self.access_tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if scope is None:
            raise GoogleError(
                401,
                "UNAUTHENTICATED",
                "Request is missing required authentication credential. Expected OAuth 2 access token.",
            )
        if needs is not None and needs not in scope.split():
            raise GoogleError(403, "PERMISSION_DENIED", "Request had insufficient authentication scopes.")

    def _allowed_locations(self, route: str, headers: Mapping[str, str]) -> dict[str, Any]:
        """IAM Credentials' ``serviceAccounts.allowedLocations``, which google-auth (2.55+) asks after a
        token refresh (its Regional Access Boundary): the service account may be used anywhere."""
        self._authorize(headers, needs=None)  # any token of ours, whatever its scope
        account = route.removeprefix(_ALLOWED_LOCATIONS_PREFIX).removesuffix("/allowedLocations")
        if account != PLAY_CLIENT_EMAIL:
            raise GoogleError(404, "NOT_FOUND", f"Service account {account} not found.")
        return {"locations": [], "encodedLocations": NO_REGIONAL_BOUNDARY}

    def _purchase(self, token: str, kind: str | None = None) -> dict[str, Any]:
        purchase = self.purchases.get(token)
        if purchase is None or (kind is not None and purchase["kind"] != kind):
            raise GoogleError(404, "NOT_FOUND", "The purchase token was not found.")
        return purchase

    def _play(self, method: str, route: str) -> dict[str, Any]:
        if not route.startswith(_PREFIX):
            raise GoogleError(404, "NOT_FOUND", f"Unknown path {route}")
        parts = route.removeprefix(_PREFIX).split("/")
        if parts[0] != self.package:
            raise GoogleError(404, "NOT_FOUND", "No application was found for the given package name.")
        rest = parts[1:]
        with self._lock:
            if method == "GET" and rest[:1] == ["orders"] and len(rest) == 2:
                if rest[1] not in self.orders:
                    raise GoogleError(404, "NOT_FOUND", "Order not found.")
                return self.orders[rest[1]]
            if rest[:1] != ["purchases"]:
                raise GoogleError(404, "NOT_FOUND", f"Unknown path {route}")
            if method == "POST" and len(rest) == 5 and rest[4].endswith(":acknowledge"):
                token = rest[4].removesuffix(":acknowledge")
                purchase = self._purchase(token, rest[1])
                if purchase["productId"] != rest[2]:
                    raise GoogleError(404, "NOT_FOUND", "The product was not found.")
                purchase["acknowledged"] = True
                self.acknowledged.append(token)
                return {}
            if method == "GET" and rest[1] == "products" and len(rest) == 5:
                return self._product(rest[4], rest[2])
            if method == "GET" and rest[1] == "productsv2" and len(rest) == 4:
                return self._product_v2(rest[3])
            if method == "GET" and rest[1] == "subscriptionsv2" and len(rest) == 4:
                return self._subscription_v2(rest[3])
        raise GoogleError(404, "NOT_FOUND", f"Unknown path {route}")

    def _product(self, token: str, product_id: str) -> dict[str, Any]:
        purchase = self._purchase(token, "products")
        if purchase["productId"] != product_id:
            raise GoogleError(404, "NOT_FOUND", "The product was not found.")
        return {
            "kind": "androidpublisher#productPurchase",
            "purchaseTimeMillis": str(int(time.time() * 1000)),
            "purchaseState": purchase["purchaseState"],
            "consumptionState": 0,
            "orderId": purchase["orderId"],
            "purchaseType": 0,
            "acknowledgementState": 1 if purchase["acknowledged"] else 0,
            "obfuscatedExternalAccountId": purchase["obfuscatedExternalAccountId"],
            "regionCode": "US",
        }

    def _product_v2(self, token: str) -> dict[str, Any]:
        purchase = self._purchase(token, "products")
        state = "ACKNOWLEDGEMENT_STATE_ACKNOWLEDGED" if purchase["acknowledged"] else "ACKNOWLEDGEMENT_STATE_PENDING"
        return {
            "kind": "androidpublisher#productPurchaseV2",
            "productLineItem": [{"productId": purchase["productId"], "productOfferDetails": {"quantity": 1}}],
            "purchaseStateContext": {"purchaseState": "PURCHASED"},
            "orderId": purchase["orderId"],
            "obfuscatedExternalAccountId": purchase["obfuscatedExternalAccountId"],
            "regionCode": "US",
            "acknowledgementState": state,
        }

    def _subscription_v2(self, token: str) -> dict[str, Any]:
        purchase = self._purchase(token, "subscriptions")
        state = "ACKNOWLEDGEMENT_STATE_ACKNOWLEDGED" if purchase["acknowledged"] else "ACKNOWLEDGEMENT_STATE_PENDING"
        expiry = purchase["expiry"].isoformat().replace("+00:00", "Z")
        return {
            "kind": "androidpublisher#subscriptionPurchaseV2",
            "regionCode": "US",
            "startTime": dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z"),
            "subscriptionState": "SUBSCRIPTION_STATE_ACTIVE",
            "latestOrderId": purchase["orderId"],
            "acknowledgementState": state,
            "externalAccountIdentifiers": {"obfuscatedExternalAccountId": purchase["obfuscatedExternalAccountId"]},
            "lineItems": [
                {
                    "productId": purchase["productId"],
                    "expiryTime": expiry,
                    "autoRenewingPlan": {"autoRenewEnabled": True, "recurringPrice": purchase["price"]},
                }
            ],
        }


class FakeGooglePlayServer:
    """Serves a :class:`FakeGooglePlay` on loopback."""

    def __init__(self, fake: FakeGooglePlay, host: str = "127.0.0.1", port: int = 0) -> None:
        self.fake = fake

        class Handler(_GoogleHandler):
            google = fake

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.host = host
        fake.base_url = self.url
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.server.server_address[1]}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self.server.serve_forever, name="fake-google", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self.server.shutdown()
            self._thread.join(timeout=5)
        self.server.server_close()


class _GoogleHandler(JsonApiHandler):
    google: FakeGooglePlay
    content_type = "application/json; charset=UTF-8"
    log = log

    def answer(self, method: str, path: str, headers: dict[str, str], body: str) -> tuple[int, Any]:
        return self.google.request(method, path, headers, body)

    do_GET = do_POST = JsonApiHandler.serve


@contextmanager
def regional_access_boundary_lookups_to(base_url: str) -> Iterator[None]:
    """LOCAL ONLY: google-auth's Regional Access Boundary lookups go to the fake Google at ``base_url``.

    After each token refresh, google-auth (2.55+) asks IAM Credentials for the service account's
    allowed locations, at ``https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/
    {email}/allowedLocations`` (``_regional_access_boundary_utils.get_service_account_rab_endpoint``,
    the one place the URL is made; no setting turns the lookup off: ``GOOGLE_AUTH_TRUST_BOUNDARY_ENABLED``
    is deprecated and ignored). Locally that host does not resolve, so every refresh started a lookup
    that failed (in a background thread, retried, then cooling down). The handlers run in the local
    stack's process: the same lookup, with the same token, goes to the fake, which answers as IAM
    Credentials does for an account without a boundary.
    """
    from google.auth import _regional_access_boundary_utils as rab

    original = rab.get_service_account_rab_endpoint

    def to_fake(service_account_email: str) -> str:
        return f"{base_url.rstrip('/')}{_ALLOWED_LOCATIONS_PREFIX}{service_account_email}/allowedLocations"

    rab.get_service_account_rab_endpoint = to_fake
    try:
        yield
    finally:
        rab.get_service_account_rab_endpoint = original
