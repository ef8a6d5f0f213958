"""Where the scheduled reports go: objects in the reports bucket (S3)."""

from __future__ import annotations

from typing import Any

from orders.cache import per_environment


@per_environment
def s3_client() -> Any:
    import boto3

    return boto3.client("s3")


def put_object(bucket: str, key: str, body: str, content_type: str) -> None:
    """Write (or overwrite) one object; the bucket's default encryption applies."""
    s3_client().put_object(Bucket=bucket, Key=key, Body=body.encode("utf-8"), ContentType=content_type)
