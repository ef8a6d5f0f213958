"""Merchants in OrdersTable: profiles, listings (and their review queue on GSI3), and a merchant's orders
(GSI5). See keys for the layout.

Listing writes are transaction items, so a listing's status and what it changes (the catalog product, the
sku's lock) land together; every status change is conditional on the status and version it was decided from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Unpack

from botocore.exceptions import ClientError

from orders.dal import cursor, keys, queues
from orders.dal.dynamo import Repository, from_item, to_item
from orders.dal.orders import OrderPage, OrderQuery
from orders.errors import ConcurrentModification
from orders.models.common import format_ts
from orders.models.merchant import Listing, ListingStatus, MerchantProfile, merchant_of
from orders.models.order import Order, OrderStatus

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

_KEY_ATTRIBUTES = ("PK", "SK", "type", keys.QUEUE_PK, keys.QUEUE_SK)


@dataclass(frozen=True)
class ListingPage:
    items: list[Listing]
    next_cursor: str | None


def _listing_key(listing: Listing) -> dict[str, Any]:
    return {"PK": {"S": keys.merchant_pk(listing.merchant_id)}, "SK": {"S": keys.listing_sk(listing.listing_id)}}


def listing_record(listing: Listing) -> dict[str, Any]:
    return to_item(
        {
            "PK": keys.merchant_pk(listing.merchant_id),
            "SK": keys.listing_sk(listing.listing_id),
            "type": "LISTING",
            **listing.model_dump(mode="json"),
        }
    )


def _listing(item: Any) -> Listing:
    data = from_item(item)
    for name in _KEY_ATTRIBUTES:
        data.pop(name, None)
    return Listing.model_validate(data)


class MerchantsRepository(Repository):
    # --- profile -------------------------------------------------------------------------------
    def profile(self, merchant_id: str) -> MerchantProfile | None:
        item = self.client.get_item(
            TableName=self._table,
            Key={"PK": {"S": keys.merchant_pk(merchant_id)}, "SK": {"S": keys.MERCHANT_PROFILE_SK}},
            ConsistentRead=True,
        ).get("Item")
        if not item:
            return None
        data = from_item(item)
        return MerchantProfile.model_validate({k: v for k, v in data.items() if k not in _KEY_ATTRIBUTES})

    def put_profile(self, before: MerchantProfile | None, after: MerchantProfile) -> None:
        """Store ``after`` if the stored profile is still ``before`` (absent, or that version)."""
        item = to_item(
            {
                "PK": keys.merchant_pk(after.merchant_id),
                "SK": keys.MERCHANT_PROFILE_SK,
                "type": "MERCHANT_PROFILE",
                **after.model_dump(mode="json"),
            }
        )
        request: dict[str, Any] = {"TableName": self._table, "Item": item}
        if before is None:
            request["ConditionExpression"] = "attribute_not_exists(PK)"
        else:
            request["ConditionExpression"] = "#version = :version"
            request["ExpressionAttributeNames"] = {"#version": "version"}
            request["ExpressionAttributeValues"] = {":version": {"N": str(before.version)}}
        try:
            self.client.put_item(**request)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise ConcurrentModification() from exc
            raise

    # --- a merchant's orders (GSI5) --------------------------------------------------------------
    def orders(self, merchant_id: str, **query: Unpack[OrderQuery]) -> OrderPage:
        """The merchant's orders, newest first, by key conditions only: one Query on the status's partition,
        or (no status) one per status, merged by sort key. Never a scan, never a filter expression."""
        status, start, end, after = query["status"], query["start"], query["end"], query["after"]
        base = keys.merchant_status_pk(merchant_id, status.value) if status else keys.merchant_pk(merchant_id)
        statuses = [status] if status else list(OrderStatus)
        partitions = [keys.merchant_status_pk(merchant_id, s.value) for s in statuses]
        after_sk = queues.decode_cursor(after, base, keys.MERCHANT_INDEX) if after else None
        raw, more = queues.query_merged(
            self.client,
            self._table,
            keys.MERCHANT_INDEX,
            partitions,
            after=after_sk,
            # "<ts>#<id>" keys: the bare start time sorts before every key at that instant, "<end>#~" after.
            lower=format_ts(start) if start else None,
            upper=format_ts(end) + "#~" if end else None,
            limit=query["limit"],
            forward=False,
        )
        orders = [Order.model_validate(from_item(item)) for item in raw]
        next_cursor = queues.encode_cursor(base, raw[-1], keys.MERCHANT_INDEX) if more and raw else None
        return OrderPage(items=orders, next_cursor=next_cursor, items_read=len(raw))

    # --- listings: transaction items -------------------------------------------------------------
    def put_listing(self, listing: Listing) -> list[TransactWriteItemTypeDef]:
        """A new listing; an open one also takes its sku's lock (one open listing per sku, any merchant)."""
        items: list[TransactWriteItemTypeDef] = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": listing_record(listing),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            }
        ]
        if listing.is_open:
            items.append(
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": to_item(
                            {
                                "PK": keys.listing_sku_lock_pk(listing.sku),
                                "SK": keys.LISTING_SKU_LOCK_SK,
                                "type": "LISTING_SKU_LOCK",
                                "listing_id": listing.listing_id,
                                "merchant_id": listing.merchant_id,
                            }
                        ),
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                }
            )
        return items

    def update_listing(self, before: Listing, after: Listing) -> list[TransactWriteItemTypeDef]:
        """``after`` if the stored listing is still ``before`` (status and version); closing it releases the
        sku's lock (if this listing holds it) and takes it out of the review queue."""
        if after.version != before.version + 1 or after.listing_id != before.listing_id:
            raise ValueError("a listing change must raise its version by exactly one")
        items = [
            self.versioned_update(
                _listing_key(after),
                after.model_dump(mode="json", exclude={"listing_id", "merchant_id"}),
                before_status=before.status.value,
                before_version=before.version,
                remove=() if after.is_open else (keys.QUEUE_PK, keys.QUEUE_SK),
            )
        ]
        if before.is_open and not after.is_open:
            items.append(
                {
                    "Delete": {
                        "TableName": self._table,
                        "Key": {
                            "PK": {"S": keys.listing_sku_lock_pk(after.sku)},
                            "SK": {"S": keys.LISTING_SKU_LOCK_SK},
                        },
                        "ConditionExpression": "listing_id = :listing",
                        "ExpressionAttributeValues": {":listing": {"S": after.listing_id}},
                    }
                }
            )
        return items

    # --- listings: reads --------------------------------------------------------------------------
    def listing(self, listing_id: str) -> Listing | None:
        merchant_id = merchant_of(listing_id)
        if merchant_id is None:
            return None
        item = self.client.get_item(
            TableName=self._table,
            Key={"PK": {"S": keys.merchant_pk(merchant_id)}, "SK": {"S": keys.listing_sk(listing_id)}},
            ConsistentRead=True,
        ).get("Item")
        return _listing(item) if item else None

    def listings(self, merchant_id: str, *, limit: int, after: str | None) -> ListingPage:
        """The merchant's listings, newest first (listing ids sort by submission time): one Query."""
        partition = keys.merchant_pk(merchant_id)
        request = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": partition}, ":prefix": {"S": keys.LISTING_PREFIX}},
            "ScanIndexForward": False,
        }
        page = cursor.query_page(
            self.client, request, limit=limit, after=after, expected={"PK": partition}, key=("PK", "SK")
        )
        return ListingPage(items=[_listing(item) for item in page.items], next_cursor=page.next_cursor)

    def review_queue(self, *, limit: int, after: str | None) -> ListingPage:
        """Listings awaiting review, the one due first first: a key-condition Query on GSI3."""
        raw, next_cursor = queues.queue_page(
            self.client, self._table, "LISTING", ListingStatus.PENDING_REVIEW.value, limit=limit, token=after
        )
        return ListingPage(items=[_listing(item) for item in raw], next_cursor=next_cursor)
