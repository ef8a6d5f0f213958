"""Cold start per function: a fresh process imports the handler module and makes its first AWS client.

Next to it, the floor: a fresh process that imports boto3 and makes one DynamoDB client. Both are
timed the same way (wall time of the whole process, interpreter start included), alternating runs
so machine noise hits both alike. Reports the median of N runs and the ratio to the floor.

Usage: python bench/cold_start.py [--runs 15] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from local_stack.template import function_specs, load_template  # noqa: E402

FLOOR = "import boto3; boto3.client('dynamodb')"
# What Lambda does at cold start: import the handler module; then the first request makes its client.
HANDLER = "import {module}; from orders.dal.dynamo import dynamodb_client; dynamodb_client()"


def environment(code_uri: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_", "PYTHON"))}
    env.update(
        {
            # Lambda's layout: the function's code and the layer (/opt/python) on the path.
            "PYTHONPATH": os.pathsep.join([str(code_uri), str(ROOT / "shared")]),
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "POWERTOOLS_METRICS_NAMESPACE": "OrderManagement",
            "POWERTOOLS_SERVICE_NAME": "bench",
            "PYTHONDONTWRITEBYTECODE": "",
        }
    )
    return env


def time_once(code: str, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=env, check=True)  # noqa: S603
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    specs = function_specs(load_template())
    cases = {"floor (boto3 + DynamoDB client)": (FLOOR, environment(ROOT))}
    for spec in specs.values():
        module = spec.handler.rpartition(".")[0]
        cases[spec.logical_id] = (HANDLER.format(module=module), environment(ROOT / spec.code_uri))
    for code, env in cases.values():  # warm the OS file cache and .pyc files once
        time_once(code, env)

    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.runs):
        for name, (code, env) in cases.items():
            samples[name].append(time_once(code, env))

    floor = statistics.median(samples["floor (boto3 + DynamoDB client)"])
    results = {
        name: {
            "median_ms": round(statistics.median(v), 1),
            "ratio_to_floor": round(statistics.median(v) / floor, 3),
            "min_ms": round(min(v), 1),
            "max_ms": round(max(v), 1),
        }
        for name, v in samples.items()
    }
    if args.json:
        print(json.dumps({"runs": args.runs, "python": sys.version.split()[0], "results": results}, indent=2))
        return
    print(f"cold start, median of {args.runs} fresh processes (Python {sys.version.split()[0]})")
    print(f"{'case':<34}{'median ms':>10}{'min':>8}{'max':>8}{'x floor':>9}")
    for name, r in results.items():
        print(f"{name:<34}{r['median_ms']:>10}{r['min_ms']:>8}{r['max_ms']:>8}{r['ratio_to_floor']:>9}")


if __name__ == "__main__":
    main()
