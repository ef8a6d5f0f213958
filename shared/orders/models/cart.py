"""A user's shopping cart: skus and quantities only (names and prices are read from the catalog each time)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from orders.models.base import Model
from orders.models.catalog import Sku


class CartLine(Model):
    sku: Sku
    quantity: Annotated[int, Field(ge=1)]
    # The price shown when the line was last set: checkout refuses (409) to charge any other.
    unit_price: int | None = None


class Cart(Model):
    user_id: str
    lines: list[CartLine] = Field(default_factory=list)
    # Bumped by every change: a write names the version it read, so two tabs never lose each other's edits.
    version: int = 0
    updated_at: datetime | None = None
