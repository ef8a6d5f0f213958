"""Request and response bodies of the public HTTP API (the OpenAPI document is built from these)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, Field, StrictInt

from orders.models.base import Model
from orders.models.catalog import (
    DEFAULT_CATEGORY,
    DEFAULT_MERCHANT,
    Category,
    CategoryCount,
    Images,
    MerchantId,
    Product,
    ProductKind,
    Sku,
    Tags,
)
from orders.models.common import MAX_MINOR_UNITS, CurrencyCode, MinorUnits, UtcDateTime
from orders.models.merchant import Listing, ListingFields, MerchantProfile, ShopDetails
from orders.models.order import Order, OrderStatus, Shipment, ShippingAddress, TimelineEvent
from orders.models.payment import LedgerEntry, PaymentEventKind, PaymentOutcome, Provider
from orders.models.refund import Refund, RefundStatus
from orders.models.workflow import Decision

MAX_ORDER_LINES = 50
MAX_LINE_QUANTITY = 999


# --- requests ------------------------------------------------------------------------------
# A catalog price: never 0 (an order of it could never be paid), and low enough that a line of the
# largest quantity stays within the money limit (orders over it are refused at placement).
MAX_UNIT_PRICE = MAX_MINOR_UNITS // MAX_LINE_QUANTITY
UnitPrice = Annotated[StrictInt, Field(ge=1, le=MAX_UNIT_PRICE)]


class OrderLineRequest(Model):
    sku: Sku
    quantity: Annotated[StrictInt, Field(ge=1, le=MAX_LINE_QUANTITY)]


class CreateOrderRequest(Model):
    """Only skus and quantities: names and prices always come from the catalog."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [{"sku": "tshirt-logo-m", "quantity": 2}, {"sku": "coins-500", "quantity": 1}],
                    "shipping_address": {
                        "name": "Ada Lovelace",
                        "line1": "12 Analytical Row",
                        "city": "London",
                        "postal_code": "N1 7AA",
                        "country": "GB",
                    },
                }
            ]
        }
    )

    items: Annotated[list[OrderLineRequest], Field(min_length=1, max_length=MAX_ORDER_LINES)]
    shipping_address: ShippingAddress | None = None


# --- responses -----------------------------------------------------------------------------
class ErrorBody(Model):
    code: str = Field(examples=["ORDER_NOT_FOUND"])
    message: str
    details: list[Any] | None = None


class ProductOut(Model):
    sku: str
    name: str
    description: str
    kind: ProductKind
    price: MinorUnits
    currency: CurrencyCode
    active: bool
    merchant_id: str
    category: str
    tags: list[str]
    images: list[str] = Field(default_factory=list)

    @classmethod
    def of(cls, product: Product) -> ProductOut:
        return cls.model_validate(product.model_dump())


class CartItemRequest(Model):
    """How many of a product the cart holds; 0 removes the line."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"quantity": 2}]})

    quantity: Annotated[StrictInt, Field(ge=0, le=MAX_LINE_QUANTITY)]


class CartLineOut(Model):
    sku: str
    name: str
    merchant_id: str
    quantity: int
    unit_price: MinorUnits = Field(description="The current catalog price")
    currency: CurrencyCode
    line_total: MinorUnits
    available: bool = Field(description="On sale and enough stock for this quantity right now")
    stock_left: int | None = Field(description="Units on hand; null when unlimited")


class CartOut(Model):
    lines: list[CartLineOut]
    version: int = Field(description="Changes with every edit of the cart")
    expires_at: UtcDateTime | None = Field(description="When an idle cart is removed")


class CheckoutRequest(Model):
    """Check the cart out; ``cart_version`` (from GET /cart) refuses a cart changed since it was shown."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"cart_version": 2}]})

    shipping_address: ShippingAddress | None = None
    cart_version: StrictInt | None = None


class CheckoutOut(Model):
    orders: list[OrderOut]


class ProductList(Model):
    items: list[ProductOut]
    next_cursor: str | None = Field(default=None, description="Pass as `cursor` for the next page; null at the end")


class CategoryOut(Model):
    category: str
    products: int = Field(description="Products on sale in the category")

    @classmethod
    def of(cls, entry: CategoryCount) -> CategoryOut:
        return cls(category=entry.category, products=entry.products)


class CategoryList(Model):
    items: list[CategoryOut]


class OrderLineOut(Model):
    sku: str
    name: str
    kind: ProductKind
    unit_price: MinorUnits
    quantity: int
    line_total: MinorUnits


class OrderOut(Model):
    model_config = ConfigDict(from_attributes=True)

    order_id: str
    user_id: str
    status: OrderStatus
    items: list[OrderLineOut]
    currency: CurrencyCode
    subtotal: MinorUnits
    shipping_fee: MinorUnits
    total: MinorUnits
    refunded_total: MinorUnits
    shipping_address: ShippingAddress | None = None
    merchant_id: str | None = None
    created_at: UtcDateTime
    updated_at: UtcDateTime
    expires_at: UtcDateTime | None = Field(default=None, description="An unpaid order is cancelled after this time.")
    shipment: Shipment | None = None
    delivered_at: UtcDateTime | None = None

    @classmethod
    def of(cls, order: Order) -> OrderOut:
        return cls.model_validate(order.model_dump())


class OrderList(Model):
    items: list[OrderOut]
    next_cursor: str | None


class TimelineEventOut(Model):
    at: UtcDateTime
    type: str
    from_status: OrderStatus | None
    to_status: OrderStatus | None
    actor: str
    details: dict[str, Any]

    @classmethod
    def of(cls, event: TimelineEvent) -> TimelineEventOut:
        return cls.model_validate(event.model_dump())


class TimelineOut(Model):
    items: list[TimelineEventOut]


# --- payments ------------------------------------------------------------------------------
class StartPaymentRequest(Model):
    model_config = ConfigDict(json_schema_extra={"examples": [{"provider": "stripe"}]})

    provider: Provider = Field(default=Provider.STRIPE, description="stripe: a PaymentIntent; apple/google: in-app")


class WebhookAck(Model):
    received: bool = True
    duplicate: bool
    outcome: PaymentOutcome

    @classmethod
    def of(cls, entry: LedgerEntry, *, duplicate: bool) -> WebhookAck:
        return cls(duplicate=duplicate, outcome=entry.outcome)


class LedgerEntryOut(Model):
    provider: Provider
    event_id: str
    event_type: str
    kind: PaymentEventKind
    # Required (possibly null) in the answer; LedgerEntry.model_dump() always carries every field.
    amount: MinorUnits | None
    currency: CurrencyCode | None
    payment_reference: str | None
    provider_references: dict[str, str]
    refunds: list[dict[str, Any]]
    received_at: UtcDateTime
    outcome: PaymentOutcome

    @classmethod
    def of(cls, entry: LedgerEntry) -> LedgerEntryOut:
        return cls.model_validate(entry.model_dump())


class PaymentList(Model):
    items: list[LedgerEntryOut]


# --- fulfilment and after-sales -------------------------------------------------------------
ShortText = Annotated[str, Field(min_length=1, max_length=100)]
Message = Annotated[str, Field(min_length=1, max_length=4000)]


class ShipmentRequest(Model):
    model_config = ConfigDict(
        str_strip_whitespace=True,
        json_schema_extra={"examples": [{"carrier": "DHL", "tracking_number": "JD014600006281230704"}]},
    )

    carrier: ShortText
    tracking_number: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9 ._/-]+$")]


class EntitlementOut(Model):
    """What the user holds of one sku, over every order that granted it."""

    sku: str
    name: str
    kind: ProductKind
    quantity: int = Field(description="Units granted and not revoked (for subscriptions: periods bought).")
    expires_at: UtcDateTime | None = Field(default=None, description="Subscriptions: end of the last period.")
    active: bool
    orders: list[str]


class EntitlementList(Model):
    items: list[EntitlementOut]


class FeedbackRequest(Model):
    model_config = ConfigDict(
        str_strip_whitespace=True,
        json_schema_extra={"examples": [{"rating": 5, "comment": "Arrived quickly, great mug."}]},
    )

    rating: Annotated[StrictInt, Field(ge=1, le=5)]
    comment: Annotated[str, Field(max_length=2000)] = ""


class FeedbackOut(Model):
    order_id: str
    rating: int
    comment: str
    created_at: UtcDateTime


class TicketRequest(Model):
    model_config = ConfigDict(
        str_strip_whitespace=True,
        json_schema_extra={"examples": [{"category": "delivery", "message": "The parcel has not arrived yet."}]},
    )

    category: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z_-]*$", examples=["delivery"])]
    message: Message


class ReplyRequest(Model):
    model_config = ConfigDict(
        str_strip_whitespace=True,
        json_schema_extra={"examples": [{"message": "Thanks, we are checking with the carrier."}]},
    )

    message: Message


class TicketMessageOut(Model):
    at: UtcDateTime
    author: str
    message: str


class TicketOut(Model):
    ticket_id: str
    order_id: str
    user_id: str
    category: str
    status: str
    messages: list[TicketMessageOut]
    created_at: UtcDateTime
    updated_at: UtcDateTime
    due_at: UtcDateTime | None = None
    breached_at: UtcDateTime | None = None
    first_response_at: UtcDateTime | None = None
    resolved_at: UtcDateTime | None = None


class TicketList(Model):
    items: list[TicketOut]
    next_cursor: str | None


class ProductCreate(Model):
    """A new product (ops). Stock applies to physical goods only; None means unlimited."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "sku": "poster-a2",
                    "name": "Poster (A2)",
                    "description": "Matte print.",
                    "kind": "physical",
                    "price": 1500,
                    "currency": "USD",
                    "stock": 100,
                }
            ]
        },
    )

    sku: Sku
    name: Annotated[str, Field(min_length=1, max_length=200)]
    description: Annotated[str, Field(max_length=2000)] = ""
    kind: ProductKind
    price: UnitPrice
    currency: CurrencyCode
    active: bool = True
    merchant_id: MerchantId = DEFAULT_MERCHANT
    category: Category = DEFAULT_CATEGORY
    tags: Tags = Field(default_factory=list)
    stock: Annotated[StrictInt, Field(ge=0, le=10**9)] | None = None
    subscription_days: Annotated[StrictInt, Field(ge=1, le=3660)] | None = None


class ProductUpdate(Model):
    """The fields to change (ops); others stay. ``"stock": null`` makes a physical product unlimited."""

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [{"price": 1300, "stock": 40}]}
    )

    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    description: Annotated[str, Field(max_length=2000)] | None = None
    kind: ProductKind | None = None
    price: UnitPrice | None = None
    currency: CurrencyCode | None = None
    active: bool | None = None
    merchant_id: MerchantId | None = None
    category: Category | None = None
    tags: Tags | None = None
    stock: Annotated[StrictInt, Field(ge=0, le=10**9)] | None = None
    subscription_days: Annotated[StrictInt, Field(ge=1, le=3660)] | None = None


class ProductAdminOut(ProductOut):
    stock: int | None
    subscription_days: int

    @classmethod
    def of(cls, product: Product) -> ProductAdminOut:
        return cls.model_validate(product.model_dump())


# --- refunds -------------------------------------------------------------------------------
class RefundRequest(Model):
    model_config = ConfigDict(json_schema_extra={"examples": [{"amount": 1500, "reason": "The shirt arrived torn."}]})

    amount: StrictInt | None = Field(
        default=None, description="Minor units; default: everything still refundable", examples=[1500]
    )
    reason: Annotated[str, Field(min_length=1, max_length=1000)]


class DecisionRequest(Model):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"decision": "approve", "note": "Photo shows the damage."}]}
    )

    decision: Decision
    note: Annotated[str, Field(max_length=1000)] = ""


class RefundOut(Model):
    refund_id: str
    order_id: str
    user_id: str
    amount: MinorUnits
    currency: CurrencyCode
    status: RefundStatus
    reason: str
    requested_at: UtcDateTime
    review_due_at: UtcDateTime | None
    decided_by: str | None
    decided_at: UtcDateTime | None
    decision_note: str | None
    failure_cause: str | None
    provider_refund_id: str | None
    automatic: bool = Field(
        default=False, description="Refunds money that arrived after the order was cancelled (no request, no review)."
    )

    @classmethod
    def of(cls, refund: Refund) -> RefundOut:
        # Explicit fields: the task token and the provider's payment reference stay in the backend.
        return cls.model_validate(
            refund.model_dump(exclude={"task_token", "version", "payment_provider", "payment_reference"})
        )


class RefundList(Model):
    items: list[RefundOut]
    next_cursor: str | None = None


# --- merchants and listings (docs/merchants.md) ------------------------------------------------
class MerchantProfileRequest(ShopDetails):
    """A shop's details, as the merchant sets them (the whole profile each time)."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "shop_name": "North Loom",
                    "contact_name": "Ada Lovelace",
                    "contact_phone": "+447700900123",
                    "support_email": "help@northloom.example",
                }
            ]
        },
    )


class MerchantProfileOut(Model):
    merchant_id: str
    shop_name: str
    contact_name: str
    contact_phone: str | None = None
    support_email: str
    updated_at: UtcDateTime

    @classmethod
    def of(cls, profile: MerchantProfile) -> MerchantProfileOut:
        return cls.model_validate(profile.model_dump(exclude={"version", "updated_by"}))


ListingName = Annotated[str, Field(max_length=200)]
ListingDescription = Annotated[str, Field(max_length=2000)]


class ListingCreateRequest(Model):
    """A new product for sale (a merchant). It goes on sale once reviewed; fields a product needs for sale
    (name, description, category, images) are checked automatically and a missing one refuses the listing."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "sku": "scarf-wool",
                    "kind": "physical",
                    "price": 3200,
                    "currency": "USD",
                    "name": "Wool Scarf",
                    "description": "Merino wool, 180 cm.",
                    "category": "apparel",
                    "tags": ["wool", "winter"],
                    "images": ["https://img.northloom.example/scarf-wool/1.jpg"],
                    "stock": 50,
                }
            ]
        },
    )

    sku: Sku
    kind: ProductKind
    price: UnitPrice
    currency: CurrencyCode
    name: ListingName = ""
    description: ListingDescription = ""
    category: Category | None = None
    tags: Tags = Field(default_factory=list)
    images: Images = Field(default_factory=list)
    active: bool = True
    stock: Annotated[StrictInt, Field(ge=0, le=10**9)] | None = None
    subscription_days: Annotated[StrictInt, Field(ge=1, le=3660)] | None = None


class ListingUpdateRequest(Model):
    """The fields of one's product to change (a merchant); the live product stays as it is until approved."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={"examples": [{"price": 1300, "description": "Ceramic, 350 ml, dishwasher safe."}]},
    )

    name: ListingName | None = None
    description: ListingDescription | None = None
    price: UnitPrice | None = None
    category: Category | None = None
    tags: Tags | None = None
    images: Images | None = None
    active: bool | None = None


class ListingOut(ListingFields):
    @classmethod
    def of(cls, listing: Listing) -> ListingOut:
        # The task token and the submitter stay in the backend.
        return cls.model_validate(listing.model_dump(exclude={"task_token", "version", "user_id"}))


class ListingList(Model):
    items: list[ListingOut]
    next_cursor: str | None = None


# --- invoices ------------------------------------------------------------------------------
class InvoicePaymentOut(Model):
    """Money a provider reported taken for the order (a ledger entry)."""

    provider: Provider
    payment_reference: str | None
    amount: MinorUnits | None
    currency: CurrencyCode | None
    received_at: UtcDateTime
    outcome: PaymentOutcome = Field(
        description="PAID: the payment of this order. Others (ALREADY_PAID: a second charge, PAID_WHILE_CANCELLED, "
        "AMOUNT_MISMATCH, RENEWED) are listed too; they are not in `paid`."
    )


class InvoiceRefundOut(Model):
    """Money given back: a refund of ours that succeeded, or one made at the provider and reported by it."""

    refund_id: str | None = Field(description="Our refund; null for a refund made at the provider")
    provider_refund_id: str | None
    amount: MinorUnits
    currency: CurrencyCode
    refunded_at: UtcDateTime
    automatic: bool = Field(description="Returns money that arrived after the order was cancelled")


class InvoiceOut(Model):
    """An order's invoice: its lines and totals, what was paid and what was given back."""

    order_id: str
    user_id: str
    status: OrderStatus
    created_at: UtcDateTime
    paid_at: UtcDateTime | None
    shipping_address: ShippingAddress | None
    lines: list[OrderLineOut]
    currency: CurrencyCode
    subtotal: MinorUnits
    shipping_fee: MinorUnits
    total: MinorUnits = Field(description="subtotal + shipping_fee (prices include any tax)")
    paid: MinorUnits = Field(description="The payments with outcome PAID")
    refunded: MinorUnits = Field(description="Refunded on the order's payment (its refunded_total)")
    refund_pending: MinorUnits = Field(description="Held back by a refund being reviewed or executed")
    balance: int = Field(description="paid - refunded: what the seller keeps")
    payments: list[InvoicePaymentOut]
    refunds: list[InvoiceRefundOut]
