"""Domain exceptions, each with a stable machine-readable ``code``.

The logic layer raises these; the HTTP layer maps their *kind* (the base class) to a status:
NotFound → 404, Conflict → 409, InvalidRequest → 422, BadRequest → 400,
Unauthorized → 401, Forbidden → 403, Unavailable → 503. Clients key on ``code``, never on the message.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    code: ClassVar[str] = "DOMAIN_ERROR"
    default_message: ClassVar[str] = "The request could not be processed."

    def __init__(self, message: str | None = None, **details: Any) -> None:
        self.message = message or self.default_message
        self.details = details
        super().__init__(self.message)


# --- kinds -------------------------------------------------------------------------------
class BadRequest(DomainError):
    code = "BAD_REQUEST"


class InvalidRequest(DomainError):
    code = "INVALID_REQUEST"


class Unauthorized(DomainError):
    code = "UNAUTHORIZED"
    default_message = "A valid bearer token is required."


class Forbidden(DomainError):
    code = "FORBIDDEN"
    default_message = "Your role does not allow this action."


class NotFound(DomainError):
    code = "NOT_FOUND"
    default_message = "Not found."


class Conflict(DomainError):
    code = "CONFLICT"


class Unavailable(DomainError):
    code = "UNAVAILABLE"
    default_message = "A service this request depends on is unavailable; retry later."


class Throttled(DomainError):
    """AWS refused for capacity (DynamoDB throughput, Lambda concurrency) after the SDK's own retries:
    answered 429 with Retry-After; nothing was written, the client retries the same request."""

    code = "THROTTLED"
    default_message = "Too many requests right now; retry after the number of seconds in Retry-After."
    retry_after_seconds: ClassVar[int] = 1


# --- concrete errors -----------------------------------------------------------------------
class PayloadTooLarge(BadRequest):
    """Answered before routing (orders.http.lambda_entry) with HTTP 413."""

    code = "PAYLOAD_TOO_LARGE"
    default_message = "The request body is too large."


class UnsupportedMediaType(BadRequest):
    """Answered before routing (orders.http.lambda_entry) with HTTP 415."""

    code = "UNSUPPORTED_MEDIA_TYPE"
    default_message = "Send the body as application/json."


class InvalidJson(BadRequest):
    code = "INVALID_JSON"
    default_message = "The request body is not valid JSON."


class InvalidCursor(BadRequest):
    code = "INVALID_CURSOR"
    default_message = "The pagination cursor is not valid for this query."


class InvalidTimeRange(InvalidRequest):
    code = "INVALID_TIME_RANGE"
    default_message = "'from' must not be after 'to'."


class UnknownSku(InvalidRequest):
    code = "UNKNOWN_SKU"
    default_message = "The order refers to a product that does not exist."


class ProductInactive(InvalidRequest):
    code = "PRODUCT_INACTIVE"
    default_message = "The order refers to a product that is not for sale."


class CurrencyMismatch(InvalidRequest):
    code = "MIXED_CURRENCIES"
    default_message = "All items of an order must be priced in the same currency."


class AddressRequired(InvalidRequest):
    code = "SHIPPING_ADDRESS_REQUIRED"
    default_message = "A shipping address is required when the order has physical goods."


class AddressNotAllowed(InvalidRequest):
    code = "SHIPPING_ADDRESS_NOT_ALLOWED"
    default_message = "An order without physical goods takes no shipping address."


class ShippingUnavailable(InvalidRequest):
    code = "SHIPPING_UNAVAILABLE"
    default_message = "Physical goods cannot be shipped in this currency."


class OrderTotalOutOfRange(InvalidRequest):
    code = "ORDER_TOTAL_OUT_OF_RANGE"
    default_message = "The order's total must be at least 1 minor unit and at most the largest amount accepted."


class DuplicateSku(InvalidRequest):
    code = "DUPLICATE_SKU"
    default_message = "Each sku may appear once per order; use quantity instead."


class ChannelAddressMissing(InvalidRequest):
    code = "CHANNEL_ADDRESS_MISSING"
    default_message = "The email channel needs an email address and the sms channel a phone number."


class PushUnavailable(InvalidRequest):
    code = "PUSH_PLATFORM_UNAVAILABLE"
    default_message = "Push notifications are not available for this platform."


class InvalidDeviceToken(InvalidRequest):
    code = "INVALID_DEVICE_TOKEN"
    default_message = "The push service refused this device token."


class OrderNotFound(NotFound):
    code = "ORDER_NOT_FOUND"
    default_message = "Order not found."


class ProductNotFound(NotFound):
    code = "PRODUCT_NOT_FOUND"
    default_message = "Product not found."


class RouteNotFound(NotFound):
    code = "ROUTE_NOT_FOUND"
    default_message = "No such route."


class InvalidTransition(Conflict):
    code = "INVALID_TRANSITION"
    default_message = "The order's status does not allow this action."


class ConcurrentModification(Conflict):
    code = "CONCURRENT_MODIFICATION"
    default_message = "The order was changed by another request; read it again and retry."
    # Indexes of the transaction items whose condition failed, when the DAL knows them (never sent to clients).
    failed_items: tuple[int, ...] = ()


class IdempotencyKeyReused(Conflict):
    code = "IDEMPOTENCY_KEY_REUSED"
    default_message = "This Idempotency-Key was already used with a different request body."


class RequestInProgress(Conflict):
    code = "REQUEST_IN_PROGRESS"
    default_message = "A request with this Idempotency-Key is still being processed."


# --- payments ------------------------------------------------------------------------------
class WebhookSignatureMissing(BadRequest):
    code = "WEBHOOK_SIGNATURE_MISSING"
    default_message = "The provider's signature is missing."


class WebhookSignatureInvalid(Unauthorized):
    code = "WEBHOOK_SIGNATURE_INVALID"
    default_message = "The provider's signature does not verify."


class WebhookTimestampStale(Unauthorized):
    code = "WEBHOOK_TIMESTAMP_STALE"
    default_message = "The signed timestamp is outside the accepted tolerance."


class ProviderNotConfigured(Unavailable):
    """A credential this route needs is not set on this deployment yet (see orders.secrets): 503, retry later."""

    code = "PROVIDER_NOT_CONFIGURED"
    default_message = "This payment provider is not configured on this deployment yet; retry later."


class WebhookNotConfigured(ProviderNotConfigured):
    """503 (not 401): the sender did nothing wrong; providers retry 5xx, so nothing is lost once it is set."""

    code = "WEBHOOK_NOT_CONFIGURED"
    default_message = "This provider is not configured here yet; nothing can be verified. Retry later."


class SecretUnavailable(Unavailable):
    code = "SECRET_UNAVAILABLE"
    default_message = "A credential this request needs could not be read; retry later."


class InvalidWebhookPayload(BadRequest):
    code = "INVALID_WEBHOOK_PAYLOAD"
    default_message = "The notification is authentic but not in the provider's documented shape."


class OrderNotPayable(Conflict):
    code = "ORDER_NOT_PAYABLE"
    default_message = "Only an order waiting for payment can be paid."


class PaymentInFlight(Conflict):
    code = "PAYMENT_IN_FLIGHT"
    default_message = "The order's payment already went through at the provider; its confirmation is on its way."


class AutomaticRefundPending(Conflict):
    code = "AUTOMATIC_REFUND_PENDING"
    default_message = (
        "This order was cancelled after its payment went through: the payment is refunded automatically "
        "as soon as the provider confirms it. There is nothing to request."
    )


class ProviderRefused(InvalidRequest):
    code = "PROVIDER_REFUSED"
    default_message = "The payment provider refused the request (e.g. an amount over its maximum)."


class ProviderUnavailable(Unavailable):
    code = "PROVIDER_UNAVAILABLE"
    default_message = "The payment provider could not be reached; retry later."


class DuplicateEvent(Conflict):
    """Internal: the provider event is already recorded (webhooks answer 200 to it)."""

    code = "DUPLICATE_EVENT"
    default_message = "This provider event was already processed."


# --- fulfilment, inventory and after-sales --------------------------------------------------
class OutOfStock(Conflict):
    code = "OUT_OF_STOCK"
    default_message = "Not enough stock left for a product of this order."


class ProductExists(Conflict):
    code = "PRODUCT_EXISTS"
    default_message = "A product with this sku already exists."


class CartTooManyLines(InvalidRequest):
    code = "CART_TOO_MANY_LINES"
    default_message = "The cart holds as many different products as it can; remove one first."


class ProductNotForSale(InvalidRequest):
    code = "PRODUCT_NOT_FOR_SALE"
    default_message = "This product is no longer on sale."


class CartChanged(Conflict):
    code = "CART_CHANGED"
    default_message = "The cart changed at the same time; read it again and retry."


class CartPricesChanged(Conflict):
    code = "CART_PRICES_CHANGED"
    default_message = "Prices or availability changed since the cart was shown; read it again (details list what)."


class CartEmpty(InvalidRequest):
    code = "CART_EMPTY"
    default_message = "The cart is empty."


class InvalidProduct(InvalidRequest):
    code = "INVALID_PRODUCT"
    default_message = "The product's fields do not fit its kind."


class SearchQueryWithoutTerms(InvalidRequest):
    code = "SEARCH_QUERY_EMPTY"
    default_message = "The search query has no word (2+ letters or digits, or a Chinese character) to look for."


class SearchQueryTooLong(InvalidRequest):
    code = "SEARCH_QUERY_TOO_LONG"
    default_message = "The search query has too many words; use at most 8."


class FeedbackNotAllowed(Conflict):
    code = "FEEDBACK_NOT_ALLOWED"
    default_message = "Feedback can be left once the order has been delivered."


class FeedbackExists(Conflict):
    code = "FEEDBACK_EXISTS"
    default_message = "Feedback for this order was already given."


class TicketNotFound(NotFound):
    code = "TICKET_NOT_FOUND"
    default_message = "Ticket not found."


class TicketResolved(Conflict):
    code = "TICKET_RESOLVED"
    default_message = "The ticket is resolved; open a new one."


# --- refunds -------------------------------------------------------------------------------
class RefundNotFound(NotFound):
    code = "REFUND_NOT_FOUND"
    default_message = "Refund not found."


class OrderNotRefundable(Conflict):
    code = "ORDER_NOT_REFUNDABLE"
    default_message = "The order's status does not allow a refund."


class RefundWindowClosed(Conflict):
    code = "REFUND_WINDOW_CLOSED"
    default_message = "The refund window for this order has closed."


class RefundAlreadyPending(Conflict):
    code = "REFUND_ALREADY_PENDING"
    default_message = "A refund of this order is already in progress."


class RefundAmountInvalid(InvalidRequest):
    code = "REFUND_AMOUNT_INVALID"
    default_message = "The amount must be positive and at most what is still refundable."


class RefundAlreadyDecided(Conflict):
    code = "REFUND_ALREADY_DECIDED"
    default_message = "This refund has already been decided."


class ReviewExpired(Conflict):
    code = "REVIEW_EXPIRED"
    default_message = "The review deadline has passed; the workflow applied its timeout policy."


class ReviewNotOpen(Conflict):
    code = "REVIEW_NOT_OPEN"
    default_message = "The review of this refund has not started yet; retry shortly."


class OwnOrderReview(Forbidden):
    code = "OWN_ORDER_REVIEW"
    default_message = "A reviewer cannot decide a refund of their own order."


class InvalidRefundState(Conflict):
    code = "INVALID_REFUND_STATE"
    default_message = "The refund is not in a state that allows this step."


# --- reports -------------------------------------------------------------------------------
class ReportWindowInvalid(InvalidRequest):
    code = "REPORT_WINDOW_INVALID"
    default_message = "`from` must not be after `to`."


class ReportWindowTooLong(InvalidRequest):
    code = "REPORT_WINDOW_TOO_LONG"
    default_message = "The report window is too long; ask for a shorter range."


class ReportTooLarge(InvalidRequest):
    code = "REPORT_TOO_LARGE"
    default_message = "Too many orders in this window for one report; ask for a shorter range."


# --- carriers ------------------------------------------------------------------------------
class UnknownCarrier(NotFound):
    code = "UNKNOWN_CARRIER"
    default_message = "No such carrier is configured on this deployment."


class CarrierEventReplayed(Conflict):
    """The carrier's event id was already recorded: nothing is changed a second time."""

    code = "CARRIER_EVENT_REPLAYED"
    default_message = "This carrier event was already received."


# --- merchants and listings ----------------------------------------------------------------
class MerchantNotLinked(Forbidden):
    code = "MERCHANT_NOT_LINKED"
    default_message = "Your account is in the merchant group but carries no merchant id; ask ops to link it."


class ListingNotFound(NotFound):
    code = "LISTING_NOT_FOUND"
    default_message = "No such listing."


class ListingAlreadyOpen(Conflict):
    code = "LISTING_ALREADY_OPEN"
    default_message = "A listing for this sku is already under review; wait for its outcome."


class ListingAlreadyDecided(Conflict):
    code = "LISTING_ALREADY_DECIDED"
    default_message = "This listing has already been decided."


class ListingReviewExpired(Conflict):
    code = "LISTING_REVIEW_EXPIRED"
    default_message = "The review deadline has passed; the workflow applied its timeout action."


class ListingReviewNotOpen(Conflict):
    code = "LISTING_REVIEW_NOT_OPEN"
    default_message = "The review of this listing has not started yet; retry shortly."


class MerchantProfileNotFound(NotFound):
    code = "MERCHANT_PROFILE_NOT_FOUND"
    default_message = "This merchant has not set up a profile yet (PUT /merchant/profile)."


class OwnListingReview(Forbidden):
    code = "OWN_LISTING_REVIEW"
    default_message = "A reviewer cannot decide a listing of their own shop."


class ShipmentMismatch(Conflict):
    """A carrier callback whose carrier or tracking number is not the order's shipment: nothing changes."""

    code = "SHIPMENT_MISMATCH"
    default_message = "This carrier and tracking number are not this order's shipment."
