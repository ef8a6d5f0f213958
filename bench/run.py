"""Every benchmark, one command: results as JSON under build/bench/, then BENCHMARKS.md regenerated from them.

    make bench                     # .venv/bin/python -m bench
    .venv/bin/python -m bench --quick          # a fast smoke run: build/bench-quick/ (BENCHMARKS.md untouched)
    .venv/bin/python -m bench --only cold_start lifecycle
    .venv/bin/python -m bench --report-only    # BENCHMARKS.md from the JSON already there

Benchmarks report; they never fail on timing (the exit status is non-zero only if one crashed).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "bench"
sys.path[:0] = [str(ROOT / "shared"), str(ROOT)]


def machine() -> dict[str, Any]:
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")), "?")
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    mem_kb = next((int(line.split()[1]) for line in meminfo.splitlines() if line.startswith("MemTotal")), 0)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout  # noqa: S607
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "date_utc": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
        "commit": commit.strip(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def benchmarks(quick: bool, out: Path = OUT) -> dict[str, tuple[str, Callable[[], dict[str, Any]]]]:
    """name → (the command that produces it alone, how to run it)."""
    from bench import cold_start, cost, hot_keys, lifecycle, load, package_size, query_scale

    runs = 3 if quick else 10
    sizes = [1000, 3000] if quick else [1000, 10000, 100000]
    clients, seconds = (2, 5.0) if quick else (4, 30.0)

    def cost_run() -> dict[str, Any]:
        return cost.run(json.loads((out / "lifecycle.json").read_text()))

    return {
        "cold_start": (
            f".venv/bin/python -m bench.cold_start --runs {runs}" + ("" if quick else " --breakdown"),
            lambda: cold_start.run(runs, first_request=True, with_breakdown=not quick),
        ),
        "cold_start_lambda": (
            f".venv/bin/python -m bench.cold_start --lambda --runs {1 if quick else 3}",
            lambda: cold_start.run_lambda(1 if quick else 3),
        ),
        "lifecycle": (
            ".venv/bin/python -m bench.lifecycle" + (" --quick" if quick else ""),
            lambda: lifecycle.run(quick=quick),
        ),
        "query_scale": (
            ".venv/bin/python -m bench.query_scale --sizes " + " ".join(map(str, sizes)),
            lambda: query_scale.run(sizes),
        ),
        "package_size": (".venv/bin/python -m bench.package_size", package_size.run),
        "load": (
            f".venv/bin/python -m bench.load --clients {clients} --seconds {seconds:g}",
            lambda: load.run(clients, seconds),
        ),
        "cost": (".venv/bin/python -m bench.cost", cost_run),
        "hot_keys": (".venv/bin/python -m bench.hot_keys --orders-per-second 10000", hot_keys.run),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and few runs: a smoke run")
    parser.add_argument("--only", nargs="+", help="run only these benchmarks")
    parser.add_argument("--report-only", action="store_true", help="regenerate BENCHMARKS.md from build/bench")
    args = parser.parse_args()
    out = OUT.with_name("bench-quick") if args.quick else OUT
    out.mkdir(parents=True, exist_ok=True)
    failed = []
    if not args.report_only:
        (out / "machine.json").write_text(json.dumps(machine(), indent=2))
        for name, (command, function) in benchmarks(args.quick, out).items():
            if args.only and name not in args.only:
                continue
            print(f"== {name}: {command}", flush=True)
            began = time.monotonic()
            load_before = os.getloadavg()[0]
            try:
                result = function()
            except Exception:
                traceback.print_exc()
                failed.append(name)
                continue
            result["_meta"] = {
                "command": command,
                "quick": args.quick,
                "seconds": round(time.monotonic() - began, 1),
                "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
                "date_utc": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
            }
            (out / f"{name}.json").write_text(json.dumps(result, indent=2))
            print(f"   done in {result['_meta']['seconds']} s", flush=True)
    from bench.report import write_report

    report = out / "BENCHMARKS.md" if args.quick else ROOT / "BENCHMARKS.md"
    write_report(out, report)
    print(report, "written from", out)
    if failed:
        sys.exit(f"benchmarks that crashed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
