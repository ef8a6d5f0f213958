"""GET /reports/summary (analyst) and the daily report in S3, on moto with the real handlers."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from local_stack.resources import bucket_name
from local_stack.runtime import LambdaRuntime
from orders import errors
from orders.logic import reports
from orders.models.common import format_ts
from tests.conftest import api_event, load_event
from tests.integration.conftest import TEMPLATE, Api
from tests.integration.helpers import placed
from tests.integration.test_shipping import order_in

ANALYST: dict[str, Any] = {"user": "analyst-1", "groups": ("analyst",)}


def window(days_back: int = 1, days_ahead: int = 1) -> dict[str, str]:
    now = datetime.now(UTC)
    return {"from": format_ts(now - timedelta(days=days_back)), "to": format_ts(now + timedelta(days=days_ahead))}


def summary(api: Api, query: dict[str, str], **who: Any) -> Any:
    return api(api_event("reports_summary", query=query, **(who or ANALYST)))


def test_the_summary_counts_the_orders_of_the_window_from_their_timelines(api: Api, runtime: LambdaRuntime) -> None:
    # Given a delivered order with feedback, a paid one and an unpaid one
    delivered = order_in(api, runtime, "DELIVERED")
    feedback = api_event("after_sales_leave_feedback", path_params={"order_id": delivered}, body={"rating": 4})
    assert api(feedback).status == 201
    order_in(api, runtime, "PAID")
    placed(api)
    # When the analyst asks for the window around now
    response = summary(api, window())
    # Then
    assert response.status == 200, response.body
    report = response.body
    assert report["orders"] == 3
    assert report["counts_by_status"]["DELIVERED"] == 1
    assert report["counts_by_status"]["PAID"] == 1
    assert report["counts_by_status"]["PENDING_PAYMENT"] == 1
    assert report["durations"]["created_to_paid"]["count"] == 2
    assert report["durations"]["paid_to_shipped"]["count"] == 1
    assert report["durations"]["shipped_to_delivered"]["count"] == 1
    assert report["durations"]["created_to_paid"]["median_seconds"] >= 0
    assert report["average_rating"] == 4.0
    assert report["payment_failure_rate"] == 0.0
    assert report["refund_rate"] == 0.0
    assert set(report) >= {"from", "to", "generated_at"}


def test_orders_outside_the_window_are_not_counted(api: Api) -> None:
    placed(api)
    assert summary(api, window(days_back=10, days_ahead=-5)).body["orders"] == 0


@pytest.mark.parametrize("groups", [(), ("ops",), ("support",), ("reviewer",)])
def test_only_analysts_read_reports(api: Api, groups: tuple[str, ...]) -> None:
    response = summary(api, window(), user="someone", groups=groups)
    assert (response.status, response.body["code"]) == (403, "FORBIDDEN")


def test_a_reversed_or_too_long_window_is_refused(api: Api) -> None:
    reversed_window = summary(api, window(days_back=-1, days_ahead=-2))
    assert (reversed_window.status, reversed_window.body["code"]) == (422, "REPORT_WINDOW_INVALID")
    too_long = summary(api, window(days_back=93, days_ahead=0))
    assert (too_long.status, too_long.body["code"]) == (422, "REPORT_WINDOW_TOO_LONG")
    missing = summary(api, {"from": window()["from"]})
    assert (missing.status, missing.body["code"]) == (422, "VALIDATION_ERROR")
    garbage = summary(api, {"from": "yesterday", "to": "today"})
    assert garbage.status == 422


def test_too_many_orders_for_one_report_is_a_clear_422(api: Api, runtime: LambdaRuntime) -> None:
    # Given two orders, and a function allowed to read one per report
    placed(api)
    placed(api)
    runtime.override_environment("ReportsFunction", REPORT_MAX_ORDERS="1")
    runtime.activate("ReportsFunction")
    start, end = (datetime.fromisoformat(value) for value in window().values())
    # Then the report refuses rather than running long
    with pytest.raises(errors.ReportTooLarge):
        reports.summary(start, end)


def test_the_daily_report_writes_json_and_csv_and_a_rerun_overwrites_them(api: Api, runtime: LambdaRuntime) -> None:
    # Given the reports bucket of the template, and an order created today
    logical_id = next(name for name, r in TEMPLATE["Resources"].items() if r["Type"] == "AWS::S3::Bucket")
    bucket = bucket_name(logical_id)
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    runtime.set_ref(logical_id, bucket)
    placed(api)
    today = datetime.now(UTC).date().isoformat()
    event = {**load_event("daily_report_scheduled"), "day": today}
    # When the scheduled function runs twice for that day
    first = runtime.invoke("DailyReportFunction", event)
    second = runtime.invoke("DailyReportFunction", event)
    # Then the same two keys hold the report
    prefix = f"reports/{today.replace('-', '/')}/summary"
    assert first == second == {"bucket": bucket, "json": f"{prefix}.json", "csv": f"{prefix}.csv"}
    report = json.loads(s3.get_object(Bucket=bucket, Key=f"{prefix}.json")["Body"].read())
    assert report["orders"] == 1
    assert report["counts_by_status"]["PENDING_PAYMENT"] == 1
    rows = dict(csv.reader(io.StringIO(s3.get_object(Bucket=bucket, Key=f"{prefix}.csv")["Body"].read().decode())))
    assert rows["orders"] == "1"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="reports/")["Contents"]]
    assert sorted(keys) == [f"{prefix}.csv", f"{prefix}.json"]
