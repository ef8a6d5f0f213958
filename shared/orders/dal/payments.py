"""The payment ledger, provider-refund records and unmatched provider events in OrdersTable.

The ledger entry of a provider event is keyed by (provider, provider event id) under its order
(see keys), and written with ``attribute_not_exists``: in the same TransactWriteItems as the
order change it causes, or alone when it changes nothing. A duplicate delivery therefore either
finds the entry when it reads, or is refused by the condition when it writes; it never takes
effect twice. Provider refunds are recorded the same way, by the provider's refund id, in the
transaction that raises ``refunded_total``: a refund is counted once, whoever reports it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from orders.dal import keys
from orders.dal.dynamo import Repository, from_item, to_item
from orders.errors import DuplicateEvent
from orders.models.common import format_ts
from orders.models.order import Order
from orders.models.payment import LedgerEntry

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef


@dataclass(frozen=True)
class PaymentSnapshot:
    """What one consistent read shows before a provider event is applied."""

    order: Order | None
    ledger: LedgerEntry | None  # set: this event was already applied (a duplicate)
    recorded_refunds: frozenset[str] = field(default_factory=frozenset)  # provider refund ids already counted


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


class PaymentsRepository(Repository):
    # --- reads -------------------------------------------------------------------------------
    def snapshot(self, order_id: str, provider: str, event_id: str, refund_ids: list[str]) -> PaymentSnapshot:
        """The order, this event's ledger entry and the given provider refunds: one BatchGetItem."""
        pk = keys.order_pk(order_id)
        wanted = [
            _key(pk, keys.ORDER_SK),
            _key(pk, keys.payment_sk(provider, event_id)),
            *(_key(pk, keys.provider_refund_sk(provider, rid)) for rid in dict.fromkeys(refund_ids)),
        ]
        items: list[dict[str, Any]] = []
        request: dict[str, Any] = {self._table: {"Keys": wanted, "ConsistentRead": True}}
        while request:
            response = self.client.batch_get_item(RequestItems=request)
            items.extend(response.get("Responses", {}).get(self._table, []))
            request = dict(response.get("UnprocessedKeys") or {})
        order: Order | None = None
        ledger: LedgerEntry | None = None
        refunds: set[str] = set()
        for item in items:
            data = from_item(item)
            sk = data["SK"]
            if sk == keys.ORDER_SK:
                order = Order.model_validate(data)
            elif sk.startswith(keys.PAYMENT_PREFIX):
                ledger = LedgerEntry.model_validate(data)
            elif sk.startswith(keys.PROVIDER_REFUND_PREFIX):
                refunds.add(data["provider_refund_id"])
        return PaymentSnapshot(order=order, ledger=ledger, recorded_refunds=frozenset(refunds))

    def get_entry(self, order_id: str | None, provider: str, event_id: str) -> LedgerEntry | None:
        if order_id is None:
            key = _key(keys.unmatched_pk(provider, event_id), keys.UNMATCHED_SK)
        else:
            key = _key(keys.order_pk(order_id), keys.payment_sk(provider, event_id))
        item = self.client.get_item(TableName=self._table, Key=key, ConsistentRead=True).get("Item")
        return LedgerEntry.model_validate(from_item(item)) if item else None

    def order_for_reference(self, provider: str, reference: str) -> str | None:
        """The order a provider payment reference (PaymentIntent id, ...) was made for, if recorded."""
        item = self.client.get_item(
            TableName=self._table, Key=_key(keys.payment_ref_pk(provider, reference), keys.PAYMENT_REF_SK)
        ).get("Item")
        return str(from_item(item)["order_id"]) if item else None

    def list_for_order(self, order_id: str) -> list[LedgerEntry]:
        """Every provider event of the order, in the order they were received."""
        entries: list[LedgerEntry] = []
        paginator = self.client.get_paginator("query")
        for page in paginator.paginate(
            TableName=self._table,
            KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
            ExpressionAttributeValues={
                ":pk": {"S": keys.order_pk(order_id)},
                ":prefix": {"S": keys.PAYMENT_PREFIX},
            },
            ConsistentRead=True,
        ):
            entries.extend(LedgerEntry.model_validate(from_item(item)) for item in page.get("Items", []))
        return sorted(entries, key=lambda entry: (entry.received_at, entry.event_id))

    # --- writes ------------------------------------------------------------------------------
    def ledger_put(self, entry: LedgerEntry) -> TransactWriteItemTypeDef:
        """The entry as a transaction item, on condition that this provider event is new."""
        if entry.order_id is None:
            raise ValueError("an entry without an order is recorded with record_unmatched")
        item = to_item(
            {
                "PK": keys.order_pk(entry.order_id),
                "SK": keys.payment_sk(entry.provider.value, entry.event_id),
                "type": "PAYMENT",
                **entry.model_dump(mode="json"),
            }
        )
        return {"Put": {"TableName": self._table, "Item": item, "ConditionExpression": "attribute_not_exists(PK)"}}

    def provider_refund_put(
        self, order_id: str, provider: str, refund_id: str, amount: int, currency: str, event_id: str | None
    ) -> TransactWriteItemTypeDef:
        """The record that ``refund_id`` is counted in ``refunded_total``; refused if it already is."""
        item = to_item(
            {
                "PK": keys.order_pk(order_id),
                "SK": keys.provider_refund_sk(provider, refund_id),
                "type": "PROVIDER_REFUND",
                "order_id": order_id,
                "provider": provider,
                "provider_refund_id": refund_id,
                "amount": amount,
                "currency": currency,
                "event_id": event_id,
            }
        )
        return {"Put": {"TableName": self._table, "Item": item, "ConditionExpression": "attribute_not_exists(PK)"}}

    def reference_put(self, provider: str, reference: str, order_id: str) -> TransactWriteItemTypeDef:
        """Payment reference → order (same value every time it is written: no condition needed)."""
        item = to_item(
            {
                "PK": keys.payment_ref_pk(provider, reference),
                "SK": keys.PAYMENT_REF_SK,
                "type": "PAYMENT_REF",
                "provider": provider,
                "payment_reference": reference,
                "order_id": order_id,
            }
        )
        return {"Put": {"TableName": self._table, "Item": item}}

    def save_reference(self, provider: str, reference: str, order_id: str) -> None:
        put = self.reference_put(provider, reference, order_id)["Put"]
        self.client.put_item(TableName=put["TableName"], Item=put["Item"])

    def record(self, entry: LedgerEntry) -> None:
        """Write an entry that changes no order; DuplicateEvent if the event was recorded already."""
        put = self.ledger_put(entry)["Put"]
        self._put_new(dict(put["Item"]))

    def record_unmatched(self, entry: LedgerEntry) -> None:
        """An authentic event naming no order we know: kept, once, in the reconciliation queue."""
        item = to_item(
            {
                "PK": keys.unmatched_pk(entry.provider.value, entry.event_id),
                "SK": keys.UNMATCHED_SK,
                "type": "PAYMENT_UNMATCHED",
                keys.QUEUE_INDEX + "PK": keys.PAYMENT_RECON_QUEUE,
                keys.QUEUE_INDEX + "SK": f"{format_ts(entry.received_at)}#{entry.event_id}",
                **entry.model_dump(mode="json"),
            }
        )
        self._put_new(item)

    def _put_new(self, item: dict[str, Any]) -> None:
        try:
            self.client.put_item(TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(PK)")
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise DuplicateEvent() from exc
            raise
