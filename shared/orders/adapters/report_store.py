"""Where the scheduled reports go: objects in the reports bucket (S3), the logic's ``ReportStore`` port."""

from __future__ import annotations

from typing import Any

from orders.cache import per_environment


@per_environment
def s3_client() -> Any:
    import boto3

    return boto3.client("s3")


class S3ReportStore:
    def __init__(self, bucket: str, client: Any) -> None:
        self.bucket = bucket
        self._client = client

    def put(self, key: str, body: str, content_type: str) -> None:
        """Write (or overwrite) one object; the bucket's default encryption applies."""
        self._client.put_object(Bucket=self.bucket, Key=key, Body=body.encode("utf-8"), ContentType=content_type)
