"""Runtime configuration, parsed once from the environment.

Every setting has one place here; code asks ``get_config()`` instead of reading
``os.environ``. Tests call ``get_config.cache_clear()`` after changing the environment.
"""

from __future__ import annotations

import os
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

    # --- refunds ---
    refund_state_machine_arn: str | None = Field(default=None, alias="REFUND_STATE_MACHINE_ARN")
    # Refunds up to this amount (minor units, any currency) skip human review.
    auto_approve_max_minor: int = Field(default=1000, ge=0, alias="AUTO_APPROVE_MAX_MINOR")
    # A refund may be asked for this many days after the order was placed.
    refund_window_days: int = Field(default=30, ge=0, alias="REFUND_WINDOW_DAYS")
    # How long a reviewer has to decide; then the workflow applies ``review_timeout_action``.
    review_timeout_seconds: int = Field(default=172800, ge=1, le=31_536_000, alias="REVIEW_TIMEOUT_SECONDS")
    review_timeout_action: Literal["approve", "reject"] = Field(default="approve", alias="REVIEW_TIMEOUT_ACTION")
    # Which adapter executes refunds at the payment provider (see orders.refund_gateway).
    refund_gateway: str = Field(default="fake", alias="REFUND_GATEWAY")

    def table(self, name: str) -> str:
        """The table name in setting ``name``; a clear error where the template did not wire it."""
        value = getattr(self, name)
        if not value:
            raise RuntimeError(f"{name.upper()} is not set in this function's environment")
        return str(value)

    @field_validator("shipping_fees", mode="before")
    @classmethod
    def _parse_json(cls, value: object) -> object:
        if isinstance(value, str):
            import json

            return json.loads(value)
        return value


@per_environment
def get_config() -> Config:
    return Config.model_validate(dict(os.environ))
