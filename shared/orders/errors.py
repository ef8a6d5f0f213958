"""Domain exceptions, each with a stable machine-readable ``code``.

The logic layer raises these; the HTTP layer maps their *kind* (the base class) to a status:
NotFound → 404, Conflict → 409, InvalidRequest → 422, BadRequest → 400,
Unauthorized → 401, Forbidden → 403. Clients key on ``code``, never on the message.
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


# --- concrete errors -----------------------------------------------------------------------
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


class DuplicateSku(InvalidRequest):
    code = "DUPLICATE_SKU"
    default_message = "Each sku may appear once per order; use quantity instead."


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


class IdempotencyKeyReused(Conflict):
    code = "IDEMPOTENCY_KEY_REUSED"
    default_message = "This Idempotency-Key was already used with a different request body."


class RequestInProgress(Conflict):
    code = "REQUEST_IN_PROGRESS"
    default_message = "A request with this Idempotency-Key is still being processed."


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
