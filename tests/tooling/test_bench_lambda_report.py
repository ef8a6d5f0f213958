"""BENCHMARKS.md §1b: the cold start as Lambda loads it is judged on every handler, never on the framework case."""

from __future__ import annotations

from typing import Any

from bench.report import LAMBDA_FLOOR, cold_start_lambda_section


def case(cpu_ratio: float) -> dict[str, Any]:
    return {
        "median_ms": 100.0,
        "ratio_to_floor": 1.0,
        "cpu_median_ms": 100.0 * cpu_ratio,
        "cpu_ratio_to_floor": cpu_ratio,
    }


def result(**after: float) -> dict[str, Any]:
    results = {LAMBDA_FLOOR: case(1.0), "framework only (x) [after]": case(1.9)}
    results |= {f"{name} [before]": case(3.0) for name in after}
    results |= {f"{name} [after]": case(ratio) for name, ratio in after.items()}
    return {"runs": 3, "python": "3.13.0", "load_average_during": [1, 2], "results": results}


def test_every_handler_within_the_target_is_met_even_if_the_framework_alone_is_not() -> None:
    lines, met, summary = cold_start_lambda_section(result(CatalogFunction=1.2, NotifyFunction=1.1))
    assert met
    assert summary.startswith("after 1.1-1.2 x")
    assert any(line.startswith("| framework only (no project code) |") and "✗" in line for line in lines)


def test_one_handler_above_the_target_fails_it_and_is_marked() -> None:
    lines, met, _ = cold_start_lambda_section(result(CatalogFunction=1.2, NotifyFunction=1.3))
    assert not met
    assert [line.split(" |")[0] for line in lines if "✗" in line] == [
        "| framework only (no project code)",
        "| NotifyFunction",
    ]
