"""PUT/GET /me/preferences and POST /me/devices through the real handler."""

from __future__ import annotations

from typing import Any

from tests.integration.conftest import Api
from tests.integration.notify_support import Notify


def test_preferences_round_trip(notify: Notify, api: Api, make_event: Any) -> None:
    # Given nothing set: the defaults
    got = api(make_event("preferences_get_preferences"))
    assert got.status == 200
    assert got.body["channels"] == ["push", "email"]
    assert got.body["locale"] == "en"

    put = api(make_event("preferences_put_preferences"))  # the events/ sample as it is
    assert put.status == 200, put.body
    got = api(make_event("preferences_get_preferences"))
    assert got.body | {"updated_at": None} == {
        "channels": ["push", "email"],
        "locale": "zh-CN",
        "email": "ada@example.com",
        "phone": None,
        "updated_at": None,
    }


def test_preferences_are_per_user(notify: Notify, api: Api, make_event: Any) -> None:
    api(make_event("preferences_put_preferences", body={"channels": [], "locale": "en"}))
    other = api(make_event("preferences_get_preferences", user="user-0002"))
    assert other.body["channels"] == ["push", "email"]


def test_bad_preferences_are_refused(notify: Notify, api: Api, make_event: Any) -> None:
    sms_without_phone = api(make_event("preferences_put_preferences", body={"channels": ["sms"]}))
    assert sms_without_phone.status == 422
    assert sms_without_phone.body["code"] == "CHANNEL_ADDRESS_MISSING"
    for body in (
        {"channels": ["fax"]},
        {"channels": ["email"], "email": "not-an-address"},
        {"channels": ["sms"], "phone": "0123"},
        {"channels": [], "locale": "not a locale!"},
        {"channels": [], "unknown": 1},
    ):
        result = api(make_event("preferences_put_preferences", body=body))
        assert result.status == 422, body
        assert result.body["code"] == "VALIDATION_ERROR"
    assert api(make_event("preferences_put_preferences", raw_body="{")).status == 400
    assert api(make_event("preferences_put_preferences", user=None)).status == 401


def test_register_device(notify: Notify, api: Api, make_event: Any, ddb: Any) -> None:
    first = api(make_event("preferences_register_device"))
    again = api(make_event("preferences_register_device"))
    assert first.status == 201, first.body
    assert set(first.body) == {"device_id", "platform", "enabled", "created_at"}
    assert again.body["device_id"] == first.body["device_id"]  # the same phone: the same device
    items = ddb.query(
        TableName="OrdersTable",
        KeyConditionExpression="PK = :pk AND begins_with(SK, :d)",
        ExpressionAttributeValues={":pk": {"S": "USER#user-0001"}, ":d": {"S": "DEVICE#"}},
    )["Items"]
    assert len(items) == 1
    assert items[0]["endpoint_arn"]["S"].startswith("arn:aws:sns:us-east-1:123456789012:endpoint/APNS/")


def test_register_device_without_a_platform_application(notify: Notify, api: Api, make_event: Any) -> None:
    result = api(make_event("preferences_register_device", body={"platform": "android", "token": "x" * 152}))
    assert result.status == 422
    assert result.body["code"] == "PUSH_PLATFORM_UNAVAILABLE"


def test_register_device_validates_the_token(notify: Notify, api: Api, make_event: Any) -> None:
    for body in (
        {"platform": "ios", "token": "short"},
        {"platform": "ios", "token": "has spaces in it"},
        {"platform": "nokia", "token": "a" * 64},
    ):
        assert api(make_event("preferences_register_device", body=body)).status == 422
