"""The benchmark harness runs (tiny sizes); its figures are reported by `make bench`, never asserted here."""

from __future__ import annotations

from typing import Any

from bench import cost, query_scale
from bench.awscalls import item_size, read_units, write_units


def test_item_size_follows_the_dynamodb_rules() -> None:
    # name bytes + value bytes; numbers: (significant digits / 2) + 1; maps and lists: 3 + 1 per element
    assert item_size({"PK": {"S": "ORDER#1"}}) == 2 + 7
    assert item_size({"n": {"N": "12345"}}) == 1 + 4
    assert item_size({"m": {"M": {"a": {"BOOL": True}}}}) == 1 + 3 + 1 + 1 + 1
    assert write_units(1024) == 1 and write_units(1025) == 2
    assert read_units(4096, consistent=True) == 1 and read_units(100, consistent=False) == 0.5


def test_query_cost_harness_counts_one_query_per_page() -> None:
    out = query_scale.run([60], repeats=1)
    page = out["results"][0]
    assert page["calls_per_page"] == 1
    assert page["items_read_per_page"] <= 21


def test_cost_model_prices_a_lifecycle() -> None:
    invocation: dict[str, Any] = {
        "event": "POST /orders",
        "rcu": 0.5,
        "wcu": 4.0,
        "index_wcu": 2.0,
        "apis": {"TransactWriteItems": 1, "SendEmail": 1},
    }
    steps = [{"step": "create order", "invocations": [invocation]}]
    lifecycle = {"physical_lifecycle": {"steps": steps}, "virtual_lifecycle": {"steps": steps}, "refund_paths": {}}
    out = cost.run(lifecycle)
    assert out["per_million_orders_counts"]["api_requests"] == 1_000_000
    assert out["usd_total_per_million_orders"] > 0


def test_hot_keys_simulation_finds_the_old_hot_key_and_none_after_sharding() -> None:
    # Given the peak-second replay through the real key functions (orders.dal.keys)
    from bench import hot_keys

    # When it runs at 10,000 orders/s
    r = hot_keys.run(10_000)
    # Then the unsharded design puts every new order on one GSI3 and one GSI4 partition
    assert r["before"]["GSI3"]["max_wcu_key"] == "QUEUE#ORDER#PENDING_PAYMENT"
    assert r["before"]["GSI4"]["max_wcu"] == 10_000
    # And the sharded one keeps every partition under half of DynamoDB's limits
    assert r["goal_met"]
    assert all(v["max_wcu"] <= 500 and v["max_rcu"] <= 1500 for v in r["after"].values())
