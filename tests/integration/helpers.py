"""Helpers shared by the fulfilment and after-sales integration tests."""

from __future__ import annotations

from typing import Any

from orders.dal.repos import orders_repository
from orders.lifecycle import Action
from orders.logic import transitions
from tests.conftest import api_event
from tests.integration.conftest import Api

ADDRESS = {"name": "Ada Lovelace", "line1": "12 Analytical Row", "city": "London", "postal_code": "N1", "country": "GB"}
PHYSICAL = {"items": [{"sku": "mug-classic", "quantity": 1}], "shipping_address": ADDRESS}
VIRTUAL = {"items": [{"sku": "coins-500", "quantity": 2}, {"sku": "premium-monthly", "quantity": 1}]}


def place(api: Api, body: Any = PHYSICAL, *, user: str = "user-0001", key: str | None = None) -> Any:
    event = api_event("create_order", body=body, user=user, headers={"Idempotency-Key": key} if key else {})
    if key is None:
        event["headers"].pop("Idempotency-Key")
        event["multiValueHeaders"].pop("Idempotency-Key")
    return api(event)


def placed(api: Api, body: Any = PHYSICAL, *, user: str = "user-0001") -> dict[str, Any]:
    response = place(api, body, user=user)
    assert response.status == 201, response.body
    return response.body  # type: ignore[no-any-return]


def mark_paid(runtime: Any, order_id: str) -> None:
    """What the payment webhook does: the same conditional transition."""
    runtime._enter("OrdersFunction")
    transitions.change(orders_repository(), order_id, Action.PAYMENT_SUCCEEDED, actor="test:payment")


def set_stock(ddb: Any, sku: str, stock: int | None) -> None:
    if stock is None:
        ddb.update_item(TableName="CatalogTable", Key={"sku": {"S": sku}}, UpdateExpression="REMOVE stock")
    else:
        ddb.update_item(
            TableName="CatalogTable",
            Key={"sku": {"S": sku}},
            UpdateExpression="SET stock = :s",
            ExpressionAttributeValues={":s": {"N": str(stock)}},
        )


def stock_of(ddb: Any, sku: str) -> int | None:
    item = ddb.get_item(TableName="CatalogTable", Key={"sku": {"S": sku}})["Item"]
    return int(item["stock"]["N"]) if "stock" in item else None


def order_items(ddb: Any) -> list[dict[str, Any]]:
    return sorted(ddb.scan(TableName="OrdersTable")["Items"], key=lambda i: (i["PK"]["S"], i["SK"]["S"]))


def order_item(ddb: Any, order_id: str) -> dict[str, Any]:
    return ddb.get_item(TableName="OrdersTable", Key={"PK": {"S": f"ORDER#{order_id}"}, "SK": {"S": "#ORDER"}})[  # type: ignore[no-any-return]
        "Item"
    ]


def stream_event(
    new_image: dict[str, Any], old_image: dict[str, Any] | None = None, sequence: int = 1
) -> dict[str, Any]:
    """events/fulfilment_paid_order.json carrying these DynamoDB images, as Lambda delivers a stream record."""
    from tests.conftest import load_event

    event = load_event("fulfilment_paid_order")
    record = event["Records"][0]
    record["dynamodb"]["Keys"] = {"PK": new_image["PK"], "SK": new_image["SK"]}
    record["dynamodb"]["NewImage"] = new_image
    if old_image is None:
        record["eventName"] = "INSERT"
        record["dynamodb"].pop("OldImage", None)
    else:
        record["dynamodb"]["OldImage"] = old_image
    record["dynamodb"]["SequenceNumber"] = f"{sequence:021d}"
    record["eventID"] = f"evt-{sequence}"
    return event
