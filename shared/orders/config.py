"""Runtime configuration, parsed once from the environment.

Every setting has one place here; code asks ``get_config()`` instead of reading
``os.environ``. Hosts of several functions switch with ``use_environment`` and ``orders.cache.reset()``
(one function at a time), or give each invocation its own with ``use_environment_here`` and
``orders.cache.use_store`` (invocations of several functions at once).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from contextvars import ContextVar, Token
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from orders.cache import per_environment

Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]


class Config(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    # Each function gets only the tables it may touch (template.yaml); see ``table()``.
    orders_table: str | None = Field(default=None, alias="ORDERS_TABLE")
    catalog_table: str | None = Field(default=None, alias="CATALOG_TABLE")
    idempotency_table: str | None = Field(default=None, alias="IDEMPOTENCY_TABLE")
    # Idempotency records live this long: a client retry after that creates a new order.
    idempotency_ttl_seconds: int = Field(default=3600, ge=60, alias="IDEMPOTENCY_TTL_SECONDS")
    # Flat shipping fee per currency, in minor units, charged once per order with physical goods.
    shipping_fees: dict[Currency, Annotated[int, Field(ge=0)]] = Field(
        default_factory=lambda: {"USD": 500, "EUR": 500, "GBP": 450, "CNY": 2000, "JPY": 700},
        alias="SHIPPING_FEES",
    )
    default_page_size: int = Field(default=20, ge=1, le=100, alias="DEFAULT_PAGE_SIZE")
    # Request bodies above this size are refused (413) before parsing. API Gateway's own cap is 10 MB and
    # Lambda's 6 MB; the largest legitimate body (an App Store JWS with its certificate chain) is ~20 KB.
    max_body_bytes: int = Field(default=65536, ge=1024, alias="MAX_BODY_BYTES")
    # Notifications and downstream events (notify, preferences).
    event_bus_name: str | None = Field(default=None, alias="EVENT_BUS_NAME")
    sender_email: str | None = Field(default=None, alias="SENDER_EMAIL")
    # Every e-mail is sent through it: SES reports its bounces and complaints to notify.
    ses_configuration_set: str | None = Field(default=None, alias="SES_CONFIGURATION_SET")
    apns_platform_application_arn: str | None = Field(default=None, alias="APNS_PLATFORM_APPLICATION_ARN")
    fcm_platform_application_arn: str | None = Field(default=None, alias="FCM_PLATFORM_APPLICATION_ARN")
    # Where notify looks up the e-mail of a user who never set preferences (optional).
    user_pool_id: str | None = Field(default=None, alias="USER_POOL_ID")

    # --- payment providers (docs/payments.md) ---------------------------------------------
    # Credentials live in AWS Secrets Manager (orders.secrets); a function gets only the ARNs of the
    # secrets it may read. The local stack and the tests put local-only values in moto's Secrets Manager.
    stripe_api_key_secret_arn: str | None = Field(default=None, alias="STRIPE_API_KEY_SECRET_ARN")
    stripe_webhook_secret_arn: str | None = Field(default=None, alias="STRIPE_WEBHOOK_SECRET_ARN")
    apple_api_key_secret_arn: str | None = Field(default=None, alias="APPLE_API_KEY_SECRET_ARN")
    google_service_account_secret_arn: str | None = Field(default=None, alias="GOOGLE_SERVICE_ACCOUNT_SECRET_ARN")
    # JSON {"<carrier>": "<signing secret>"}: one secret holds every carrier's (docs/fulfilment.md).
    carrier_secrets_secret_arn: str | None = Field(default=None, alias="CARRIER_SECRETS_SECRET_ARN")
    # How long a carrier event id is remembered for dedupe (DynamoDB TTL on the dedupe item).
    carrier_event_dedupe_days: int = Field(default=30, ge=1, le=365, alias="CARRIER_EVENT_DEDUPE_DAYS")
    # How long a secret value is cached in the execution environment before it is read again (rotation).
    secrets_max_age_seconds: int = Field(default=300, ge=0, le=86_400, alias="SECRETS_MAX_AGE_SECONDS")
    # Unset: Stripe's own API. The local stack points it at its fake Stripe on loopback.
    stripe_api_base: str | None = Field(default=None, alias="STRIPE_API_BASE")
    stripe_webhook_tolerance_seconds: int = Field(default=300, ge=1, alias="STRIPE_WEBHOOK_TOLERANCE_SECONDS")
    # Apple App Store Server Notifications V2.
    apple_bundle_id: str = Field(default="", alias="APPLE_BUNDLE_ID")
    apple_app_apple_id: int | None = Field(default=None, alias="APPLE_APP_APPLE_ID")
    apple_environment: str = Field(default="Sandbox", pattern=r"^(Sandbox|Production)$", alias="APPLE_ENVIRONMENT")
    # Root certificates the JWS chain must end at: comma-separated file paths or base64 DER. Unset (as
    # deployed): every certificate file shipped in the layer's orders/adapters/payments/certs/ (Apple Root CA - G3).
    apple_root_certificates: tuple[str, ...] = Field(
        default_factory=lambda: shipped_apple_roots(), alias="APPLE_ROOT_CERTIFICATES"
    )
    # OCSP revocation checks against Apple (network). Off only where the chain is a test chain.
    apple_online_checks: bool = Field(default=True, alias="APPLE_ONLINE_CHECKS")
    # App Store Server API (answers to CONSUMPTION_REQUEST): its key is the APPLE_API_KEY secret (orders.secrets).
    # The base URL is for the local stack/tests only.
    apple_api_base: str = Field(default="", alias="APPLE_API_BASE")
    # Whether the customer agreed (terms of service) that consumption data may be shared with Apple.
    apple_customer_consented: bool = Field(default=False, alias="APPLE_CUSTOMER_CONSENTED")
    # Google Play RTDN through a Pub/Sub push subscription with an OIDC token.
    google_pubsub_audience: str = Field(default="", alias="GOOGLE_PUBSUB_AUDIENCE")
    google_pubsub_service_account: str = Field(default="", alias="GOOGLE_PUBSUB_SERVICE_ACCOUNT")
    google_package_name: str = Field(default="", alias="GOOGLE_PACKAGE_NAME")
    google_oidc_certs_url: str = Field(
        default="https://www.googleapis.com/oauth2/v1/certs", alias="GOOGLE_OIDC_CERTS_URL"
    )
    # Play Developer API (purchase look-ups: order id, price; acknowledgements); the local stack/tests point
    # it at a fake. Its service account's JSON key (or base64 of it), read by google_adapter.play_credentials.
    google_play_api_base: str = Field(default="https://androidpublisher.googleapis.com", alias="GOOGLE_PLAY_API_BASE")
    # Fulfilment and after-sales.
    unpaid_order_ttl_minutes: int = Field(default=30, ge=1, alias="UNPAID_ORDER_TTL_MINUTES")
    auto_complete_days: int = Field(default=7, ge=0, alias="AUTO_COMPLETE_DAYS")
    ticket_response_hours: int = Field(default=24, ge=1, alias="TICKET_RESPONSE_HOURS")
    # Upper bound of items one scheduled run handles (the next run takes the rest).
    scheduler_batch_limit: int = Field(default=500, ge=1, alias="SCHEDULER_BATCH_LIMIT")
    # Shopping cart: removed by the table's TTL after this long without a change; at most this many lines.
    cart_idle_hours: int = Field(default=720, ge=1, le=8784, alias="CART_IDLE_HOURS")
    # Checkout writes 2 items per order (one order per merchant) + 1 per stocked line + the cart's removal in
    # one TransactWriteItems (at most 100 items): 3 * 33 + 1 = 100 is the most lines that always fit.
    cart_max_lines: int = Field(default=30, ge=1, le=33, alias="CART_MAX_LINES")

    # --- refunds ---
    refund_state_machine_arn: str | None = Field(default=None, alias="REFUND_STATE_MACHINE_ARN")
    # A refund skips human review while the running total of its order's refunds (succeeded, pending and
    # this one) stays within this amount (minor units, any currency)...
    auto_approve_max_minor: int = Field(default=1000, ge=0, alias="AUTO_APPROVE_MAX_MINOR")
    # ...and the user's automatically approved refunds within the last ``auto_approve_user_window_hours``
    # (this one included, per currency) stay within this amount (docs/refunds.md).
    auto_approve_user_max_minor: int = Field(default=5000, ge=0, alias="AUTO_APPROVE_USER_MAX_MINOR")
    auto_approve_user_window_hours: int = Field(default=720, ge=1, le=8784, alias="AUTO_APPROVE_USER_WINDOW_HOURS")
    # A refund may be asked for this many days after the order was placed.
    refund_window_days: int = Field(default=30, ge=0, alias="REFUND_WINDOW_DAYS")
    # How long a reviewer has to decide; then the workflow applies ``review_timeout_action``.
    review_timeout_seconds: int = Field(default=172800, ge=1, le=31_536_000, alias="REVIEW_TIMEOUT_SECONDS")
    review_timeout_action: Literal["approve", "reject"] = Field(default="approve", alias="REVIEW_TIMEOUT_ACTION")

    # --- merchants and listing review (docs/merchants.md) ---
    listing_state_machine_arn: str | None = Field(default=None, alias="LISTING_STATE_MACHINE_ARN")
    # How long a reviewer has to decide a listing, and what happens then (decided_by system:timeout).
    listing_review_timeout_seconds: int = Field(
        default=259_200, ge=1, le=31_536_000, alias="LISTING_REVIEW_TIMEOUT_SECONDS"
    )
    listing_review_timeout_action: Literal["approve", "reject"] = Field(
        default="reject", alias="LISTING_REVIEW_TIMEOUT_ACTION"
    )
    # Automatic checks: a listed price within these bounds (minor units, any currency)...
    listing_min_price_minor: int = Field(default=50, ge=1, alias="LISTING_MIN_PRICE_MINOR")
    listing_max_price_minor: int = Field(default=1_000_000, ge=1, alias="LISTING_MAX_PRICE_MINOR")
    # ...no banned word in the name, description or tags (whole words, any case; comma-separated)...
    listing_banned_words: tuple[str, ...] = Field(
        default=("counterfeit", "replica", "knockoff", "bootleg"), alias="LISTING_BANNED_WORDS"
    )
    # ...and this many pictures (a new product; a change that sets pictures).
    listing_min_images: int = Field(default=1, ge=0, le=20, alias="LISTING_MIN_IMAGES")
    listing_max_images: int = Field(default=8, ge=1, le=20, alias="LISTING_MAX_IMAGES")

    # --- reports (orders.logic.reports) ---
    # The longest window GET /reports/summary accepts, and the most orders one report reads.
    report_max_days: int = Field(default=92, ge=1, le=366, alias="REPORT_MAX_DAYS")
    report_max_orders: int = Field(default=5000, ge=1, alias="REPORT_MAX_ORDERS")
    # Where the scheduled daily report is written (reports/YYYY/MM/DD/summary.json and .csv).
    reports_bucket: str | None = Field(default=None, alias="REPORTS_BUCKET")

    def table(self, name: str) -> str:
        """The table name in setting ``name``; a clear error where the template did not wire it."""
        value = getattr(self, name)
        if not value:
            raise RuntimeError(f"{name.upper()} is not set in this function's environment")
        return str(value)

    @field_validator("apple_root_certificates", "listing_banned_words", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("stripe_api_base", "apple_app_apple_id", "sender_email", "ses_configuration_set", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("shipping_fees", mode="before")
    @classmethod
    def _parse_json(cls, value: object) -> object:
        if isinstance(value, str):
            import json

            return json.loads(value)
        return value


APPLE_CERTS_DIR = Path(__file__).resolve().parent / "adapters" / "payments" / "certs"


def shipped_apple_roots() -> tuple[str, ...]:
    """Paths of the Apple root certificates shipped in the layer (orders/adapters/payments/certs/*.cer)."""
    return tuple(str(path) for path in sorted(APPLE_CERTS_DIR.glob("*.cer")))


def process_environment() -> Mapping[str, str]:
    return os.environ


Environment = Callable[[], Mapping[str, str]]

_process_wide: Environment = process_environment
_here: ContextVar[Environment | None] = ContextVar("orders_config_environment", default=None)


def use_environment(source: Environment) -> None:
    """Where settings are read from, process-wide. Lambda: the process environment. A host that
    runs several functions in one process, one at a time (the tests), points it at the active
    function's own environment, then calls ``orders.cache.reset()``."""
    global _process_wide
    _process_wide = source


def use_environment_here(source: Environment) -> Token[Environment | None]:
    """Where settings are read from in the current ``contextvars`` context only: one invocation,
    while other functions run in other threads (the local stack's runtime)."""
    return _here.set(source)


def current_environment() -> Mapping[str, str]:
    return (_here.get() or _process_wide)()


@per_environment
def get_config() -> Config:
    return Config.model_validate(dict(current_environment()))
