"""notify end to end on moto: real writes to OrdersTable, stream records read back by the
StreamPoller, the real handler, then SES / SNS / SQS checked."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from tests.integration.conftest import Api
from tests.integration.notify_support import Notify, outbox, put_item, write_status

USER = "user-0001"
ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "12 Analytical Row",
    "city": "London",
    "postal_code": "N1 7AA",
    "country": "GB",
}


def place_order(api: Api, make_event: Any, user: str = USER) -> dict[str, Any]:
    body = {"items": [{"sku": "tshirt-logo-m", "quantity": 2}], "shipping_address": ADDRESS}
    result = api(make_event("create_order", user=user, body=body, headers={"Idempotency-Key": f"k-{user}"}))
    assert result.status == 201, result.body
    return result.body  # type: ignore[no-any-return]


def set_preferences(api: Api, make_event: Any, user: str = USER, **body: Any) -> None:
    result = api(make_event("preferences_put_preferences", user=user, body=body))
    assert result.status == 200, result.body


def register_device(api: Api, make_event: Any, token: str, user: str = USER) -> dict[str, Any]:
    result = api(make_event("preferences_register_device", user=user, body={"platform": "ios", "token": token}))
    assert result.status == 201, result.body
    return result.body  # type: ignore[no-any-return]


def endpoint_of(ddb: Any, user: str, device_id: str) -> str:
    item = ddb.get_item(TableName="OrdersTable", Key={"PK": {"S": f"USER#{user}"}, "SK": {"S": f"DEVICE#{device_id}"}})
    return str(item["Item"]["endpoint_arn"]["S"])


def test_each_order_step_notifies_the_user_and_the_teams(notify: Notify, api: Api, make_event: Any, ddb: Any) -> None:
    # Given a user who wants e-mail and SMS, and has a phone registered for push
    set_preferences(
        api, make_event, channels=["email", "sms", "push"], locale="en", email="ada@example.com", phone="+447700900123"
    )
    device = register_device(api, make_event, token="a" * 64)
    order = place_order(api, make_event)
    order_id = order["order_id"]

    # When the order is paid, handed to the warehouse, shipped and delivered
    write_status(ddb, order_id, "PAID")
    write_status(ddb, order_id, "PENDING_SHIPMENT")
    write_status(ddb, order_id, "SHIPPED", carrier="DHL", tracking_number="JD0123456789")
    write_status(ddb, order_id, "DELIVERED")
    notify.drain()

    # Then the user got purchase confirmed, shipped (carrier + tracking) and delivered on every channel
    subjects = [email.subject for email in notify.emails()]
    assert subjects == [
        f"Purchase confirmed: order {order_id}",
        f"Order {order_id} has shipped",
        f"Order {order_id} was delivered",
    ]
    shipped = notify.emails()[1]
    assert "DHL" in shipped.body
    assert "JD0123456789" in shipped.body
    assert "Logo T-Shirt (M) x2" in shipped.body
    assert notify.emails()[0].destinations["ToAddresses"] == ["ada@example.com"]
    assert "USD 55.00" in notify.emails()[0].body  # 2 x 25.00 + 5.00 shipping
    sms = notify.sms()
    assert [to for to, _ in sms] == ["+447700900123"] * 3
    assert "JD0123456789" in sms[1][1]
    pushes = notify.pushes(endpoint_of(ddb, USER, device["device_id"]))
    assert len(pushes) == 3
    assert "JD0123456789" in json.loads(pushes[1]["APNS"])["aps"]["alert"]["body"]
    # and every notification is on record for the local stack (contract: NOTIFICATION items)
    records = outbox(ddb, order_id)
    assert len(records) == 9
    assert {r["status"] for r in records} == {"SENT"}
    assert {r["channel"] for r in records} == {"email", "sms", "push"}
    assert all(r["type"] == "NOTIFICATION" and r["SK"].startswith("NOTIFY#order#") for r in records)
    assert all({"order_id", "event", "channel", "to", "subject", "body", "at"} <= r.keys() for r in records)

    # and the teams got their events through the bus rules
    warehouse = notify.queue_events("WarehouseQueue")
    assert [e["detail"]["new_status"] for e in warehouse] == ["PENDING_SHIPMENT"]
    assert warehouse[0]["source"] == "orders.order"
    assert warehouse[0]["detail-type"] == "Order Status Changed"
    assert warehouse[0]["detail"]["shipping_address"]["city"] == "London"
    logistics = notify.queue_events("LogisticsQueue")
    assert [e["detail"]["new_status"] for e in logistics] == ["SHIPPED", "DELIVERED"]
    assert logistics[0]["detail"]["tracking_number"] == "JD0123456789"
    assert logistics[0]["detail"]["old_status"] == "PENDING_SHIPMENT"
    events = outbox(ddb, order_id, "EVENT#")
    assert [json.loads(e["detail"])["new_status"] for e in sorted(events, key=lambda e: e["SK"])] == [
        "PENDING_PAYMENT",
        "PAID",
        "PENDING_SHIPMENT",
        "SHIPPED",
        "DELIVERED",
    ]
    assert notify.given_up == []


def test_payment_failed_and_cancel_reach_customer_service_and_the_user(
    notify: Notify, api: Api, make_event: Any, ddb: Any
) -> None:
    set_preferences(api, make_event, channels=["email"], locale="zh-CN", email="li@example.com")
    order_id = place_order(api, make_event)["order_id"]

    write_status(ddb, order_id, "PAYMENT_FAILED")
    write_status(ddb, order_id, "CANCELLED")
    notify.drain()

    emails = notify.emails()
    assert [e.subject for e in emails] == [f"订单 {order_id} 支付失败", f"订单 {order_id} 已取消"]
    assert "重新支付" in emails[0].body  # the way to retry
    cs = notify.queue_events("CustomerServiceQueue")
    assert [e["detail"]["new_status"] for e in cs] == ["PAYMENT_FAILED", "CANCELLED"]


def test_refund_and_ticket_changes(notify: Notify, api: Api, make_event: Any, ddb: Any) -> None:
    set_preferences(api, make_event, channels=["email"], email="ada@example.com")
    order = place_order(api, make_event)
    order_id = order["order_id"]
    refund = {
        "PK": f"ORDER#{order_id}",
        "SK": "REFUND#r-1",
        "type": "REFUND",
        "refund_id": "r-1",
        "order_id": order_id,
        "user_id": USER,
        "amount": 1250,
        "currency": order["currency"],
        "status": "PENDING_REVIEW",
        "requested_at": "2026-11-22T03:00:00.000000Z",
    }

    put_item(ddb, refund)
    put_item(ddb, refund | {"status": "APPROVED", "decided_by": "reviewer-1"})
    put_item(ddb, refund | {"status": "SUCCEEDED"})
    ticket = {"PK": f"ORDER#{order_id}", "SK": "TICKET#t-1", "type": "TICKET", "ticket_id": "t-1", "order_id": order_id}
    put_item(ddb, ticket | {"status": "OPEN"})  # no user_id on the item: notify reads the order
    put_item(ddb, ticket | {"status": "ANSWERED"})
    notify.drain()

    subjects = [e.subject for e in notify.emails()]
    assert subjects == [
        f"Refund approved for order {order_id}",
        "Refund of USD 12.50 completed",
        f"Support replied about order {order_id}",
    ]
    assert "12.50" in notify.emails()[1].body
    cs = notify.queue_events("CustomerServiceQueue")
    assert [(e["source"], e["detail"]["new_status"]) for e in cs] == [
        ("orders.refund", "PENDING_REVIEW"),
        ("orders.refund", "APPROVED"),
        ("orders.refund", "SUCCEEDED"),
        ("orders.ticket", "OPEN"),
        ("orders.ticket", "ANSWERED"),
    ]
    assert cs[2]["detail"]["amounts"] == {"amount": 1250}
    assert cs[2]["detail"]["refund_id"] == "r-1"


def test_a_redelivered_record_sends_nothing_twice(notify: Notify, api: Api, make_event: Any, ddb: Any) -> None:
    set_preferences(api, make_event, channels=["email", "sms"], email="ada@example.com", phone="+447700900123")
    order_id = place_order(api, make_event)["order_id"]
    write_status(ddb, order_id, "PAID")
    records: list[dict[str, Any]] = []

    def consumer(event: dict[str, Any]) -> Any:
        records.extend(event["Records"])
        return notify.invoke(event)

    notify.poller.consumer = consumer
    notify.drain()
    assert len(notify.emails()) == 1
    assert len(notify.sms()) == 1

    # When the same stream records come again (a retry, a bisected batch), in another invocation
    response = notify.invoke({"Records": records})

    # Then nothing more is sent, nothing more is put on the bus, and the batch succeeds
    assert response == {"batchItemFailures": []}
    assert len(notify.emails()) == 1
    assert len(notify.sms()) == 1
    assert len(outbox(ddb, order_id)) == 2
    assert len(outbox(ddb, order_id, "EVENT#")) == 2
    assert len(notify.queue_events("CustomerServiceQueue")) == 0


def test_a_poison_record_fails_alone(notify: Notify, api: Api, make_event: Any, ddb: Any) -> None:
    set_preferences(api, make_event, channels=["email"], email="ada@example.com")
    first = place_order(api, make_event)["order_id"]
    second = first
    write_status(ddb, first, "PAID")
    # A broken ORDER item (no order_id) between good ones
    put_item(ddb, {"PK": "ORDER#broken", "SK": "#ORDER", "type": "ORDER", "status": "PAID", "version": 2})
    write_status(ddb, second, "PENDING_SHIPMENT")
    write_status(ddb, second, "SHIPPED", carrier="UPS", tracking_number="1Z999")

    notify.drain()

    # Then the good records went through and the poison one reached the on-failure sink, alone
    assert [e.subject for e in notify.emails()] == [
        f"Purchase confirmed: order {first}",
        f"Order {first} has shipped",
    ]
    assert len(notify.given_up) == 1
    info = notify.given_up[0]
    assert info["DDBStreamBatchInfo"]["batchSize"] == 1
    assert info["records"][0]["dynamodb"]["Keys"]["PK"] == {"S": "ORDER#broken"}
    assert info["requestContext"]["condition"] == "RetryAttemptsExhausted"


def test_handler_reports_only_the_poison_record(notify: Notify, api: Api, make_event: Any, ddb: Any) -> None:
    set_preferences(api, make_event, channels=["email"], email="ada@example.com")
    order_id = place_order(api, make_event)["order_id"]
    write_status(ddb, order_id, "PAID")
    put_item(ddb, {"PK": "ORDER#broken", "SK": "#ORDER", "type": "ORDER", "status": {"nested": 1}})
    write_status(ddb, order_id, "PENDING_SHIPMENT")
    batch: list[dict[str, Any]] = []
    notify.poller.consumer = lambda event: batch.extend(event["Records"])
    notify.drain()

    response = notify.invoke({"Records": batch})

    poison = [r["dynamodb"]["SequenceNumber"] for r in batch if r["dynamodb"]["Keys"]["PK"]["S"] == "ORDER#broken"]
    assert response == {"batchItemFailures": [{"itemIdentifier": poison[0]}]}
    assert [e.subject for e in notify.emails()] == [f"Purchase confirmed: order {order_id}"]
    assert len(notify.queue_events("WarehouseQueue")) == 1


def test_user_without_preferences_gets_push_or_nothing_and_no_crash(
    notify: Notify, api: Api, make_event: Any, ddb: Any
) -> None:
    # A user with nothing at all: no preferences, no device, not in the user pool
    lonely = place_order(api, make_event, user="user-lonely")["order_id"]
    # A user with only a registered phone
    device = register_device(api, make_event, token="b" * 64, user="user-phone")
    with_phone = place_order(api, make_event, user="user-phone")["order_id"]

    write_status(ddb, lonely, "PAID")
    write_status(ddb, with_phone, "PAID")
    notify.drain()

    assert notify.given_up == []
    assert outbox(ddb, lonely) == []
    assert len(outbox(ddb, lonely, "EVENT#")) == 2  # the teams still hear of it
    pushes = notify.pushes(endpoint_of(ddb, "user-phone", device["device_id"]))
    assert [json.loads(p["APNS"])["aps"]["alert"]["title"] for p in pushes] == [
        f"Purchase confirmed: order {with_phone}"
    ]
    assert notify.emails() == []


def test_user_without_preferences_falls_back_to_the_verified_email_in_the_user_pool(
    notify: Notify, api: Api, make_event: Any, ddb: Any
) -> None:
    idp = boto3.client("cognito-idp", region_name="us-east-1")
    pool = idp.create_user_pool(PoolName="users")["UserPool"]["Id"]
    user = idp.admin_create_user(
        UserPoolId=pool,
        Username="user-known",
        UserAttributes=[{"Name": "email", "Value": "known@example.com"}, {"Name": "email_verified", "Value": "true"}],
    )["User"]["Username"]
    notify.runtime.set_ref("UserPool", pool)
    order_id = place_order(api, make_event, user=user)["order_id"]

    write_status(ddb, order_id, "PAID")
    notify.drain()

    assert [e.destinations["ToAddresses"] for e in notify.emails()] == [["known@example.com"]]


def test_unknown_locale_falls_back_to_english(notify: Notify, api: Api, make_event: Any, ddb: Any) -> None:
    set_preferences(api, make_event, channels=["email"], locale="fr-FR", email="ada@example.com")
    order_id = place_order(api, make_event)["order_id"]
    write_status(ddb, order_id, "PAID")
    notify.drain()
    assert [e.subject for e in notify.emails()] == [f"Purchase confirmed: order {order_id}"]


def test_a_bad_device_token_is_recorded_and_disabled_and_the_rest_goes_on(
    notify: Notify, api: Api, make_event: Any, ddb: Any
) -> None:
    set_preferences(api, make_event, channels=["push", "email"], email="ada@example.com")
    good = register_device(api, make_event, token="c" * 64)
    bad = register_device(api, make_event, token="d" * 64)
    bad_arn = endpoint_of(ddb, USER, bad["device_id"])
    # The platform told SNS the token is dead
    boto3.client("sns", region_name="us-east-1").set_endpoint_attributes(
        EndpointArn=bad_arn, Attributes={"Enabled": "false"}
    )
    order_id = place_order(api, make_event)["order_id"]

    write_status(ddb, order_id, "PAID")
    notify.drain()
    write_status(ddb, order_id, "PENDING_SHIPMENT")
    write_status(ddb, order_id, "SHIPPED", carrier="DHL", tracking_number="JD1")
    notify.drain()

    assert notify.given_up == []
    assert len(notify.pushes(endpoint_of(ddb, USER, good["device_id"]))) == 2
    assert len(notify.emails()) == 2
    failed = [r for r in outbox(ddb, order_id) if r["status"] == "FAILED"]
    assert len(failed) == 1  # only the first attempt: then the device is disabled
    assert "EndpointDisabled" in failed[0]["error"]
    device = ddb.get_item(
        TableName="OrdersTable", Key={"PK": {"S": f"USER#{USER}"}, "SK": {"S": f"DEVICE#{bad['device_id']}"}}
    )["Item"]
    assert device["enabled"] == {"BOOL": False}


def test_a_transient_failure_retries_the_record_and_sends_once(
    notify: Notify, api: Api, make_event: Any, ddb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orders.adapters.channels import SnsSmsNotifier

    set_preferences(api, make_event, channels=["email", "sms"], email="ada@example.com", phone="+447700900123")
    order_id = place_order(api, make_event)["order_id"]
    original = SnsSmsNotifier.send
    calls = {"n": 0}

    def flaky(self: SnsSmsNotifier, to: str, message: Any, **kwargs: Any) -> str:
        calls["n"] += 1
        if calls["n"] == 1:
            raise TimeoutError("SNS did not answer")
        return original(self, to, message, **kwargs)

    monkeypatch.setattr(SnsSmsNotifier, "send", flaky)
    write_status(ddb, order_id, "PAID")
    notify.drain()

    assert len(notify.sms()) == 1
    assert len(notify.emails()) == 1  # sent in the first attempt, not again in the retry
    assert {r["status"] for r in outbox(ddb, order_id)} == {"SENT"}
    assert notify.given_up == []


def test_a_claim_left_by_a_crashed_attempt_is_taken_over(notify: Notify, api: Api, make_event: Any, ddb: Any) -> None:
    set_preferences(api, make_event, channels=["email"], email="ada@example.com")
    order_id = place_order(api, make_event)["order_id"]
    order = write_status(ddb, order_id, "PAID")
    # A previous invocation claimed the e-mail and died before sending
    put_item(
        ddb,
        {
            "PK": f"ORDER#{order_id}",
            "SK": f"NOTIFY#order#{order_id}#v{order['version']}#email",
            "type": "NOTIFICATION",
            "order_id": order_id,
            "status": "SENDING",
            "claim": "dead",
            "channel": "email",
        },
    )
    notify.drain()
    assert len(notify.emails()) == 1
    assert {r["status"] for r in outbox(ddb, order_id)} == {"SENT"}


def test_sample_stream_event_runs_through_the_handler(notify: Notify) -> None:
    from tests.conftest import load_event

    response = notify.invoke(load_event("notify_stream"))
    assert response == {"batchItemFailures": []}
    # The sample's order does not exist in this table; the user has no channel: the event still goes out
    assert len(notify.queue_events("WarehouseQueue")) == 1
