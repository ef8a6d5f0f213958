"""Catalog product: what can be bought, at which price."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import ConfigDict, Field

from orders.models.base import Model
from orders.models.common import CurrencyCode, MinorUnits, Money

Sku = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
# Merchants, categories and tags are lower-case slugs, so they can sit inside index keys unchanged.
Slug = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z0-9][a-z0-9-]*$")]
MerchantId = Slug
Category = Slug
MAX_TAGS = 10
Tags = Annotated[list[Slug], Field(max_length=MAX_TAGS)]
# A product picture: an https URL (the merchant hosts it, or uploads it where the app serves images from).
ImageUrl = Annotated[str, Field(min_length=12, max_length=500, pattern=r"^https://[^\s]+$")]
MAX_IMAGES = 20
Images = Annotated[list[ImageUrl], Field(max_length=MAX_IMAGES)]

# Products stored before merchants and categories existed read as the platform's own, uncategorised.
DEFAULT_MERCHANT = "platform"
DEFAULT_CATEGORY = "general"


class ProductKind(StrEnum):
    VIRTUAL = "virtual"
    SUBSCRIPTION = "subscription"
    PHYSICAL = "physical"


class Product(Model):
    model_config = ConfigDict(frozen=True)

    sku: Sku
    name: Annotated[str, Field(min_length=1, max_length=200)]
    description: Annotated[str, Field(max_length=2000)] = ""
    kind: ProductKind
    price: MinorUnits
    currency: CurrencyCode
    active: bool = True
    # Who sells it (checkout makes one order per merchant) and where it is shelved.
    merchant_id: MerchantId = DEFAULT_MERCHANT
    category: Category = DEFAULT_CATEGORY
    tags: Tags = Field(default_factory=list)
    # Pictures, in display order (merchant listings carry them; products from before have none).
    images: Images = Field(default_factory=list)
    # Units on hand for physical goods; None = unlimited (virtual goods, subscriptions).
    stock: Annotated[int, Field(ge=0)] | None = None
    # How long one unit of a subscription lasts.
    subscription_days: Annotated[int, Field(ge=1, le=3660)] = 30

    @property
    def unit_price(self) -> Money:
        return Money(amount=self.price, currency=self.currency)


# --- browse and search (orders.logic.search) -------------------------------------------------------
class IndexEntry(Model):
    """What the catalog index holds for one product: nothing when it is not listed."""

    model_config = ConfigDict(frozen=True)

    listed: bool
    category: Category
    name_key: str = ""
    tokens: tuple[str, ...] = ()


class ProductPage(Model):
    items: list[Product]
    next_cursor: str | None = None
    # Index items read to answer (ScannedCount) plus products fetched: what the page cost.
    items_read: int = 0


class CategoryCount(Model):
    category: Category
    products: int
