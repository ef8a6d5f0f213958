"""Cost per million orders on AWS, from the measured counts (bench/lifecycle.py) and list prices.

PRICES are us-east-1 on-demand list prices as known on 2025-06-01 (no AWS site is reachable from
here): ASSUMPTIONS TO CHECK against aws.amazon.com/pricing before quoting. Free tiers are ignored.
Lambda duration is not measured on AWS: ``--avg-ms`` (default 120 ms billed per invocation, arm64,
512 MB as in template.yaml) is an assumption too.

The mix: 70% virtual orders (create → pay → granted), 30% physical (create → pay → ship → deliver →
confirm, plus one list page, one order read and one timeline read), 5% of all orders refunded through
the review path (request → reviewer approves → executed at the provider).

    .venv/bin/python -m bench.cost [--lifecycle build/bench/lifecycle.json] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PRICE_DATE = "2025-06-01 (list prices as known; to be checked)"
PRICES = {
    "lambda_request": 0.20 / 1e6,
    "lambda_gb_second_arm64": 0.0000133334,
    "apigw_rest_request": 3.50 / 1e6,
    "dynamodb_write_request_unit": 0.625 / 1e6,  # on-demand, after the November 2024 price cut
    "dynamodb_read_request_unit": 0.125 / 1e6,
    "stepfunctions_standard_transition": 0.025 / 1e3,
    "ses_email": 0.10 / 1e3,
    "sns_publish_mobile_push": 0.50 / 1e6,
    "eventbridge_custom_event": 1.00 / 1e6,
    "sqs_request": 0.40 / 1e6,
}
MIX = {"virtual": 0.70, "physical": 0.30, "refunded": 0.05}
MEMORY_GB = 0.5
REFUND_STEPS = ("refund",)


def counts(steps: list[dict[str, Any]]) -> dict[str, float]:
    out = {"invocations": 0.0, "api_requests": 0.0, "rru": 0.0, "wru": 0.0, "emails": 0.0, "push": 0.0, "events": 0.0}
    for step in steps:
        for inv in step["invocations"]:
            out["invocations"] += 1
            if inv["event"].split(" ")[0] in ("GET", "POST", "PUT", "PATCH", "DELETE"):
                out["api_requests"] += 1
            out["rru"] += inv["rcu"]
            out["wru"] += inv["wcu"] + inv["index_wcu"]
            out["emails"] += inv["apis"].get("SendEmail", 0)
            out["push"] += inv["apis"].get("Publish", 0)
            out["events"] += inv["apis"].get("PutEvents", 0)
    return out


def run(lifecycle: dict[str, Any], avg_ms: float = 120.0) -> dict[str, Any]:
    physical_steps = lifecycle["physical_lifecycle"]["steps"]
    base = [s for s in physical_steps if not s["step"].startswith(REFUND_STEPS)]
    refund = [s for s in physical_steps if s["step"].startswith(REFUND_STEPS)]
    per = {
        "virtual order": counts(lifecycle["virtual_lifecycle"]["steps"]),
        "physical order": counts(base),
        "refund (review path)": counts(refund),
    }
    transitions = lifecycle.get("refund_paths", {}).get("approve", {}).get("transitions", 0)
    per["refund (review path)"]["transitions"] = transitions
    # Step Functions' own DynamoDB write (the task token on the refund, into GSI3): table + index.
    per["refund (review path)"]["wru"] += 2
    # EventBridge → SQS targets: each event reaches at most one team queue per rule; counted once.
    weights = {
        "virtual order": MIX["virtual"],
        "physical order": MIX["physical"],
        "refund (review path)": MIX["refunded"],
    }
    million: dict[str, float] = {}
    for kind, c in per.items():
        for name, value in c.items():
            million[name] = million.get(name, 0.0) + value * weights[kind] * 1e6
    dollars = {
        "Lambda requests": million["invocations"] * PRICES["lambda_request"],
        "Lambda duration": million["invocations"] * avg_ms / 1000 * MEMORY_GB * PRICES["lambda_gb_second_arm64"],
        "API Gateway (REST)": million["api_requests"] * PRICES["apigw_rest_request"],
        "DynamoDB writes (on-demand)": million["wru"] * PRICES["dynamodb_write_request_unit"],
        "DynamoDB reads (on-demand)": million["rru"] * PRICES["dynamodb_read_request_unit"],
        "Step Functions (Standard)": million.get("transitions", 0.0) * PRICES["stepfunctions_standard_transition"],
        "SES e-mail": million["emails"] * PRICES["ses_email"],
        "SNS push": million["push"] * PRICES["sns_publish_mobile_push"],
        "EventBridge events": million["events"] * PRICES["eventbridge_custom_event"],
        "SQS (bus targets)": million["events"] * PRICES["sqs_request"],
    }
    return {
        "price_date": PRICE_DATE,
        "prices_usd": PRICES,
        "mix": MIX,
        "avg_billed_ms_assumed": avg_ms,
        "per_unit_counts": {k: {n: round(v, 2) for n, v in c.items()} for k, c in per.items()},
        "per_million_orders_counts": {k: round(v) for k, v in million.items()},
        "usd_per_million_orders": {k: round(v, 2) for k, v in dollars.items()},
        "usd_total_per_million_orders": round(sum(dollars.values()), 2),
        "not_included": "CloudWatch Logs/metrics/X-Ray, data transfer, storage, SMS, Cognito MAU, KMS, free tiers",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--lifecycle", type=Path, default=ROOT / "build" / "bench" / "lifecycle.json")
    parser.add_argument("--avg-ms", type=float, default=120.0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    out = run(json.loads(args.lifecycle.read_text()), args.avg_ms)
    print(json.dumps(out, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
