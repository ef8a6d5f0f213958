"""The in-process stack the scale benchmarks run against: moto, the template's tables and the real handlers.

with in_process_stack() as (ddb, runtime):
    runtime.invoke("OrdersFunction", query_event("orders_list_orders", {"limit": "20"}))
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest.mock import patch

ROOT = Path(__file__).resolve().parent.parent

# Fake credentials; no traces, quiet logs (a benchmark times the handler, not its log lines).
ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "1",
    "POWERTOOLS_LOG_LEVEL": "ERROR",
    "POWERTOOLS_METRICS_NAMESPACE": "OrderManagement",
}


@contextmanager
def in_process_stack() -> Iterator[tuple[Any, Any]]:
    """(a DynamoDB client, a LambdaRuntime running the template's functions) on moto in this process, with
    every table of template.yaml created; the environment and moto's state are restored on exit."""
    import boto3
    from moto import mock_aws

    from local_stack.resources import base_refs
    from local_stack.runtime import LambdaRuntime
    from local_stack.template import create_tables, load_template, resources

    template = load_template()
    with patch.dict(os.environ, ENVIRONMENT), mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        create_tables(ddb, template, {name: name for name in resources(template, "AWS::DynamoDB::Table")})
        yield ddb, LambdaRuntime(base_refs(template), base_env=dict(os.environ))


def query_event(name: str, query: dict[str, str]) -> dict[str, Any]:
    """The sample API event ``events/<name>.json`` with ``query`` as its query string."""
    event: dict[str, Any] = json.loads((ROOT / "events" / f"{name}.json").read_text())
    event["queryStringParameters"] = query
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()}
    return event
