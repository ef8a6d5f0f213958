"""`make secrets [ENV=dev] [STACK=...]`: put the provider credentials into the stack's (empty) secrets.

The stack creates one Secrets Manager secret per name in ``orders.secrets.SECRETS``; this finds them
in the stack's resources and asks for each value (hidden input; Enter skips and leaves it as it is).
Non-interactive: set an environment variable of the secret's name (``STRIPE_API_KEY=sk_live_... make
secrets``) or ``<NAME>_FILE`` pointing at a file (``GOOGLE_SERVICE_ACCOUNT_JSON_FILE=key.json``).
Functions pick a new value up within ``SECRETS_MAX_AGE_SECONDS`` (5 minutes): no redeploy.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def stack_secrets(cloudformation: Any, stack: str) -> dict[str, str]:
    """Logical id → ARN of every Secrets Manager secret of the stack."""
    found: dict[str, str] = {}
    for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack):
        for resource in page["StackResourceSummaries"]:
            if resource["ResourceType"] == "AWS::SecretsManager::Secret":
                found[resource["LogicalResourceId"]] = resource["PhysicalResourceId"]
    return found


def value_for(name: str, what: str, interactive: bool) -> str | None:
    if os.environ.get(name):
        return os.environ[name]
    if os.environ.get(f"{name}_FILE"):
        return Path(os.environ[f"{name}_FILE"]).read_text().strip()
    if not interactive:
        return None
    answer = getpass.getpass(f"{name} ({what}); Enter skips: ")
    return answer.strip() or None


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(ROOT / "shared"))
    from orders.secrets import SECRETS

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stack", required=True)
    args = parser.parse_args(argv)
    import boto3

    arns = stack_secrets(boto3.client("cloudformation"), args.stack)
    manager = boto3.client("secretsmanager")
    interactive = sys.stdin.isatty()
    for spec in SECRETS.values():
        arn = arns.get(spec.resource)
        if arn is None:
            print(f"{spec.name}: no {spec.resource} in stack {args.stack} (deployed an older template?)")
            continue
        value = value_for(str(spec.name), spec.what, interactive)
        if value is None:
            print(f"{spec.name}: left as it is")
            continue
        manager.put_secret_value(SecretId=arn, SecretString=value)
        print(f"{spec.name}: set ({len(value)} characters)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
