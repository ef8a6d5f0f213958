"""`make console-deploy ENV=dev`: put console/ in the stack's console bucket, with a config.json for that stack.

Reads the deployed stack (samconfig.toml names it per ENV): its outputs (bucket, distribution, Cognito hosted
UI domain and app client, console URL) and parameters (stage, review timeout action, console URLs). Uploads
every file with its content type, writes config.json, removes files no longer in console/, then invalidates
the CloudFront cache. ``--dry-run`` prints the plan and the config without writing anything.
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

ROOT = Path(__file__).resolve().parent.parent
CONSOLE = ROOT / "console"
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}
# Files are not fingerprinted: browsers revalidate (ETag) on every load, which costs one small request each.
CACHE_CONTROL = "no-cache"


@dataclass(frozen=True)
class Upload:
    key: str
    body: bytes
    content_type: str


def stack_name(env: str) -> str:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    return str(config[env]["deploy"]["parameters"]["stack_name"])


def console_config(outputs: dict[str, str], parameters: dict[str, str]) -> dict[str, Any]:
    """config.json: where the API is (same origin, under /<stage>) and how staff sign in (hosted UI)."""
    urls = [url.strip() for url in parameters.get("ConsoleUrls", "").split(",") if url.strip()]
    home = urls[0] if urls else outputs["ConsoleUrl"]
    return {
        "auth": "cognito",
        "apiBase": f"/{parameters['Stage']}",
        "reviewTimeoutAction": parameters.get("RefundReviewTimeoutAction", "approve"),
        "cognito": {
            "domain": outputs["ConsoleAuthDomain"],
            "clientId": outputs["ConsoleUserPoolClientId"],
            "redirectUri": home,
            "logoutUri": home,
            "scopes": "openid email profile",
        },
    }


def plan(root: Path, config: dict[str, Any]) -> list[Upload]:
    uploads = [
        Upload(
            path.relative_to(root).as_posix(),
            path.read_bytes(),
            TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream",
        )
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.name != "config.json"
    ]
    uploads.append(Upload("config.json", json.dumps(config, indent=2).encode(), "application/json"))
    return uploads


def sync(s3: Any, bucket: str, uploads: list[Upload]) -> list[str]:
    """Upload every file, then delete what is no longer shipped. Returns the deleted keys."""
    for upload in uploads:
        s3.put_object(
            Bucket=bucket, Key=upload.key, Body=upload.body, ContentType=upload.content_type, CacheControl=CACHE_CONTROL
        )
    keep = {upload.key for upload in uploads}
    stale = [
        item["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for item in page.get("Contents", [])
        if item["Key"] not in keep
    ]
    for key in stale:
        s3.delete_object(Bucket=bucket, Key=key)
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="dev")
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)
    name = stack_name(args.env)
    stack = boto3.client("cloudformation").describe_stacks(StackName=name)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    parameters = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}
    config = console_config(outputs, parameters)
    uploads = plan(CONSOLE, config)
    total = sum(len(u.body) for u in uploads)
    print(f"{name}: {len(uploads)} files, {total} bytes → s3://{outputs['ConsoleBucketName']}/", file=sys.stderr)
    if args.dry_run:
        print(json.dumps(config, indent=2))
        return 0
    stale = sync(boto3.client("s3"), outputs["ConsoleBucketName"], uploads)
    boto3.client("cloudfront").create_invalidation(
        DistributionId=outputs["ConsoleDistributionId"],
        InvalidationBatch={"Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": f"console-{time.time_ns()}"},
    )
    home = config["cognito"]["redirectUri"]
    print(f"uploaded; removed {len(stale)} stale file(s); CloudFront invalidated. Open {home}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
