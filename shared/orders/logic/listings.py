"""Listings: a merchant's new product or product change, checked automatically, then reviewed by a person.

    submitted ──automatic checks fail──▶ AUTO_REJECTED                       (no workflow)
        └──────passed──▶ PENDING_REVIEW ──reviewer approves──▶ APPROVED      (catalog written, same transaction)
                                       ├─reviewer rejects───▶ REJECTED      (catalog untouched)
                                       ├─deadline passes────▶ timeout action (reject by default, or approve)
                                       ├─product changed meanwhile─▶ REJECTED (PRODUCT_CHANGED)
                                       └─workflow broke─────▶ FAILED        (catalog untouched)

Every status change is a conditional write on the listing's status and version, so a decision is taken
once: a second one (or one racing the timeout) finds the listing decided and changes nothing. An
approval writes the catalog through ``CatalogRepository.create/update`` (the functions ops' catalog
administration uses) with the listing's change and the release of the sku's lock as extra items of the
same transaction: the product goes on sale exactly when the listing is APPROVED, never otherwise.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from orders import errors
from orders.config import Config, get_config
from orders.dal.merchants import ListingPage
from orders.dal.repos import catalog_repository, listing_workflow, merchants_repository
from orders.logic.pages import page_size
from orders.logic.review import Review, ReviewErrors
from orders.logic.search import index_entry
from orders.models.api import ListingCreateRequest, ListingUpdateRequest
from orders.models.catalog import Product, ProductKind
from orders.models.common import format_ts, utcnow
from orders.models.merchant import (
    SYSTEM_CHECKS,
    Listing,
    ListingKind,
    ListingStatus,
    ReasonCode,
    new_listing_id,
)
from orders.models.workflow import Decision
from orders.observability import logger, metrics

if TYPE_CHECKING:
    from orders.dal.workflow import ReviewWorkflow

SYSTEM_APPLY = "system:apply"
_WORDS = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*", re.UNICODE)


# --- automatic checks (pure) ---------------------------------------------------------------------
def automatic_check(kind: ListingKind, changes: dict[str, Any], config: Config) -> tuple[ReasonCode, str] | None:
    """The first rule the proposed change breaks, as (reason code, message), or None when it passes.

    Required fields (a new product needs a name, a description and a category; a change cannot blank
    them), price bounds, banned words (whole words, any case, in the name, description and tags) and the
    number of pictures (a new product; a change that sets pictures).
    """
    required = ("name", "description", "category")
    if kind is ListingKind.CREATE:
        missing = [name for name in required if not changes.get(name)]
    else:
        missing = [name for name in required if name in changes and not changes[name]]
    if missing:
        return ReasonCode.MISSING_FIELDS, "Required for sale and missing: " + ", ".join(missing) + "."
    price = changes.get("price")
    if price is not None and not config.listing_min_price_minor <= price <= config.listing_max_price_minor:
        return (
            ReasonCode.PRICE_OUT_OF_BOUNDS,
            f"The price must be between {config.listing_min_price_minor} and {config.listing_max_price_minor} "
            "minor units.",
        )
    text = " ".join(
        [str(changes.get("name") or ""), str(changes.get("description") or ""), *map(str, changes.get("tags") or [])]
    )
    banned = {word.casefold() for word in config.listing_banned_words}
    hits = sorted({word for word in (w.casefold() for w in _WORDS.findall(text)) if word in banned})
    if hits:
        return ReasonCode.BANNED_WORDS, "Words not allowed in a listing: " + ", ".join(hits) + "."
    if kind is ListingKind.CREATE or "images" in changes:
        count = len(changes.get("images") or [])
        if not config.listing_min_images <= count <= config.listing_max_images:
            return (
                ReasonCode.IMAGE_COUNT,
                f"A listing needs {config.listing_min_images} to {config.listing_max_images} pictures; it has {count}.",
            )
    return None


# --- submission (merchant) -------------------------------------------------------------------------
def _proposed_product(changes: dict[str, Any], merchant_id: str) -> Product:
    """The product a new-product listing would create; 422 INVALID_PRODUCT where the kinds do not fit."""
    data = dict(changes)
    if data.get("subscription_days") is not None and data["kind"] != ProductKind.SUBSCRIPTION.value:
        raise errors.InvalidProduct("subscription_days applies to subscriptions only.", sku=data["sku"])
    if data.get("stock") is not None and data["kind"] != ProductKind.PHYSICAL.value:
        raise errors.InvalidProduct("Only physical products have stock; leave it out (unlimited).", sku=data["sku"])
    return Product.model_validate(
        {k: v for k, v in data.items() if v is not None and v != ""} | {"merchant_id": merchant_id}
    )


def submit_new_product(merchant_id: str, request: ListingCreateRequest, *, user_id: str) -> Listing:
    changes = request.model_dump(mode="json", exclude_none=True)
    if catalog_repository().get(request.sku) is not None:
        raise errors.ProductExists(sku=request.sku)
    return _submit(merchant_id, request.sku, ListingKind.CREATE, changes, user_id=user_id)


def submit_change(merchant_id: str, sku: str, request: ListingUpdateRequest, *, user_id: str) -> Listing:
    current = catalog_repository().get(sku)
    if current is None or current.merchant_id != merchant_id:
        raise errors.ProductNotFound(sku=sku)  # another merchant's product reads as not found
    named = request.model_fields_set
    changes = {name: value for name, value in request.model_dump(mode="json").items() if name in named}
    for name, value in changes.items():
        if value is None:
            raise errors.InvalidProduct(f"'{name}' cannot be null.", sku=sku, field=name)
    if not changes:
        raise errors.InvalidProduct("Name at least one field to change.", sku=sku)
    return _submit(merchant_id, sku, ListingKind.UPDATE, changes, user_id=user_id)


def _submit(merchant_id: str, sku: str, kind: ListingKind, changes: dict[str, Any], *, user_id: str) -> Listing:
    config = get_config()
    refusal = automatic_check(kind, changes, config)
    if refusal is None and kind is ListingKind.CREATE:
        _proposed_product(changes, merchant_id)  # a listing that passes must make a valid product
    now = utcnow()
    listing = Listing(
        listing_id=new_listing_id(merchant_id),
        merchant_id=merchant_id,
        sku=sku,
        kind=kind,
        changes=changes,
        status=ListingStatus.AUTO_REJECTED if refusal else ListingStatus.PENDING_REVIEW,
        user_id=user_id,
        submitted_at=now,
        updated_at=now,
        review_due_at=None if refusal else now + timedelta(seconds=config.listing_review_timeout_seconds),
        decided_by=SYSTEM_CHECKS if refusal else None,
        decided_at=now if refusal else None,
        reason_code=refusal[0] if refusal else None,
        reason=refusal[1] if refusal else None,
    )
    repo = merchants_repository()
    try:
        repo.transact(repo.put_listing(listing))
    except errors.ConcurrentModification as exc:
        if 1 in exc.failed_items:
            raise errors.ListingAlreadyOpen(sku=sku) from exc
        raise
    logger.append_keys(listing_id=listing.listing_id, merchant_id=merchant_id)
    if refusal:
        logger.info("listing refused by the automatic checks", reason_code=refusal[0].value)
        metrics.add_metric(name="ListingsAutoRejected", unit="Count", value=1)
        return listing
    payload = {
        "listing_id": listing.listing_id,
        "merchant_id": merchant_id,
        "review_due_at": format_ts(listing.review_due_at or now),
        "review_timeout_seconds": config.listing_review_timeout_seconds,
    }
    REVIEW.start(listing.listing_id, payload)
    metrics.add_metric(name="ListingsSubmitted", unit="Count", value=1)
    return listing


# --- reads ---------------------------------------------------------------------------------------
def merchant_listings(merchant_id: str, *, limit: int | None, cursor: str | None) -> ListingPage:
    return merchants_repository().listings(merchant_id, limit=page_size(limit), after=cursor)


def review_queue(*, limit: int | None, cursor: str | None) -> ListingPage:
    return merchants_repository().review_queue(limit=page_size(limit), after=cursor)


def _load(listing_id: str) -> Listing:
    listing = merchants_repository().listing(listing_id)
    if listing is None:
        raise errors.ListingNotFound(listing_id=listing_id)
    return listing


# --- decisions ------------------------------------------------------------------------------------
def _closed(
    listing: Listing,
    status: ListingStatus,
    *,
    actor: str,
    note: str | None,
    reason_code: ReasonCode | None = None,
    reason: str | None = None,
) -> Listing:
    now = utcnow()
    return listing.model_copy(
        update={
            "status": status,
            "decided_by": actor,
            "decided_at": now,
            "updated_at": now,
            "decision_note": note,
            "reason_code": reason_code,
            "reason": reason,
            "task_token": None,
            "version": listing.version + 1,
        }
    )


def _apply(listing: Listing, decision: Decision, *, actor: str, note: str | None, timed_out: bool = False) -> Listing:
    """Record ``decision`` (conditional on the listing as read). Approve: the catalog write and the listing's
    APPROVED land in one transaction; if the live product no longer fits the listing, it is REJECTED
    (PRODUCT_CHANGED) and the catalog is untouched."""
    repo, catalog = merchants_repository(), catalog_repository()
    if decision is Decision.REJECT:
        code = ReasonCode.REVIEW_TIMED_OUT if timed_out else ReasonCode.REVIEWER_REJECTED
        message = "The review deadline passed." if timed_out else "A reviewer declined the listing."
        after = _closed(listing, ListingStatus.REJECTED, actor=actor, note=note, reason_code=code, reason=message)
        repo.transact(repo.update_listing(listing, after))
        return after
    approved = _closed(listing, ListingStatus.APPROVED, actor=actor, note=note)
    extra = repo.update_listing(listing, approved)
    try:
        if listing.kind is ListingKind.CREATE:
            product = _proposed_product(listing.changes, listing.merchant_id)
            catalog.create(product, index_entry(product), extra=extra)
        else:
            found = catalog.get_with_state(listing.sku)
            if found is None or found[0].merchant_id != listing.merchant_id:
                raise errors.ProductNotFound(sku=listing.sku)
            current, state = found
            merged = Product.model_validate({**current.model_dump(), **listing.changes})
            catalog.update(
                listing.sku,
                dict(listing.changes),
                index_entry(merged),
                state,
                extra=extra,
                merchant_id=listing.merchant_id,
            )
    except (errors.ProductExists, errors.ProductNotFound):
        after = _closed(
            listing,
            ListingStatus.REJECTED,
            actor=SYSTEM_APPLY,
            note=note,
            reason_code=ReasonCode.PRODUCT_CHANGED,
            reason="The sku was taken or the product changed hands while the listing was reviewed.",
        )
        repo.transact(repo.update_listing(listing, after))
        return after
    return approved


class ListingReview(Review[Listing, Listing]):
    """The listing's side of the review workflow (orders.logic.review): an approval writes the catalog."""

    noun, metric_prefix, timeout_metric = "listing", "Listings", "ListingReviewsTimedOut"
    refusals = ReviewErrors(
        already_decided=errors.ListingAlreadyDecided,
        expired=errors.ListingReviewExpired,
        not_open=errors.ListingReviewNotOpen,
    )

    def workflow(self) -> ReviewWorkflow:
        return listing_workflow()

    def load(self, item_id: str) -> Listing:
        return _load(item_id)

    def item(self, state: Listing) -> Listing:
        return state

    def record(self, state: Listing, decision: Decision, *, actor: str, note: str | None, timed_out: bool) -> Listing:
        return _apply(state, decision, actor=actor, note=note, timed_out=timed_out)

    def close_failed(self, state: Listing, cause: str) -> Listing:
        """FAILED: the sku's lock released; the catalog untouched."""
        after = state.model_copy(
            update={
                "status": ListingStatus.FAILED,
                "failure_cause": cause,
                "task_token": None,
                "updated_at": utcnow(),
                "version": state.version + 1,
            }
        )
        repo = merchants_repository()
        repo.transact(repo.update_listing(state, after))
        return after

    def timeout_action(self) -> Decision:
        return Decision(get_config().listing_review_timeout_action)

    def approved(self, item: Listing) -> bool:
        return item.status is ListingStatus.APPROVED

    def log_keys(self, item: Listing) -> dict[str, str]:
        return {"listing_id": item.listing_id, "merchant_id": item.merchant_id}

    def check_reviewer(self, state: Listing, *, reviewer_id: str, reviewer_merchant: str | None) -> None:
        if reviewer_merchant is not None and reviewer_merchant == state.merchant_id:
            raise errors.OwnListingReview(listing_id=state.listing_id)


REVIEW = ListingReview()


def decide(
    listing_id: str, *, reviewer_id: str, reviewer_merchant: str | None, decision: Decision, note: str | None
) -> Listing:
    """A reviewer's decision: applied first (conditional write), then the workflow resumes."""
    return REVIEW.decide(
        listing_id, reviewer_id=reviewer_id, reviewer_merchant=reviewer_merchant, decision=decision, note=note
    )


# --- workflow steps (functions/listing_worker) ---------------------------------------------------------
def record_timeout(listing_id: str) -> dict[str, str]:
    """The review deadline passed: apply the configured action, unless a decision is already recorded."""
    return REVIEW.record_timeout(listing_id)


def mark_failed(listing_id: str, *, cause: str) -> Listing | None:
    """Close an open listing as FAILED with its cause (the sku's lock released; the catalog untouched)."""
    return REVIEW.mark_failed(listing_id, cause=cause)
