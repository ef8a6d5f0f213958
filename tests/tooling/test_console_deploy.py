"""`make console-deploy`: the console's files and a config.json for the stack land in its bucket (moto S3)."""

from __future__ import annotations

import json
from typing import Any

import boto3
from moto import mock_aws

from tools.console_deploy import CONSOLE, console_config, plan, sync

OUTPUTS = {
    "ConsoleUrl": "https://d111111abcdef8.cloudfront.net/",
    "ConsoleAuthDomain": "https://123456789012-dev-orders-console.auth.us-east-1.amazoncognito.com",
    "ConsoleUserPoolClientId": "1example23456789",
    "ConsoleBucketName": "orders-dev-consolebucket",
}


def test_config_points_at_the_stage_under_the_same_origin_and_the_hosted_ui() -> None:
    # Given a stack on stage prod with no custom console URL / When the config is made
    config = console_config(OUTPUTS, {"Stage": "prod", "RefundReviewTimeoutAction": "reject", "ConsoleUrls": ""})
    # Then the API is /prod on the console's origin and sign-in returns to the CloudFront URL
    assert config["auth"] == "cognito"
    assert config["apiBase"] == "/prod"
    assert config["reviewTimeoutAction"] == "reject"
    assert config["cognito"]["redirectUri"] == config["cognito"]["logoutUri"] == OUTPUTS["ConsoleUrl"]
    assert config["cognito"]["clientId"] == "1example23456789"
    # And a custom console URL, when set, is where sign-in returns
    custom = console_config(OUTPUTS, {"Stage": "dev", "ConsoleUrls": "https://console.example.com/,https://x/"})
    assert custom["cognito"]["redirectUri"] == "https://console.example.com/"


def test_sync_uploads_every_file_with_its_type_and_removes_stale_ones() -> None:
    with mock_aws():
        s3: Any = boto3.client("s3", region_name="us-east-1")
        bucket = OUTPUTS["ConsoleBucketName"]
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key="old.js", Body=b"gone")
        config = console_config(OUTPUTS, {"Stage": "dev"})
        # When the console is synced
        removed = sync(s3, bucket, plan(CONSOLE, config))
        # Then every shipped file is there with its content type, config.json holds the config, old files went
        keys = {item["Key"] for item in s3.list_objects_v2(Bucket=bucket)["Contents"]}
        shipped = {p.relative_to(CONSOLE).as_posix() for p in CONSOLE.rglob("*") if p.is_file()}
        assert keys == shipped | {"config.json"}
        assert removed == ["old.js"]
        index = s3.get_object(Bucket=bucket, Key="index.html")
        assert index["ContentType"] == "text/html; charset=utf-8"
        assert s3.head_object(Bucket=bucket, Key="app.js")["ContentType"] == "text/javascript; charset=utf-8"
        assert json.loads(s3.get_object(Bucket=bucket, Key="config.json")["Body"].read()) == config
