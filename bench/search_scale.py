"""Items read per search page against catalog size: browse and keyword pages at 1k and 100k products.

The catalog table (moto, in process, created from template.yaml) is filled through the DAL's bulk import
(``CatalogRepository.bulk_load``: the same product, keyword and counter items POST /products writes, in
BatchWriteItem calls of 25). Products are synthetic, ``<colour> <word> <material>`` in 20 categories (4 items
each: the product and 3 keyword items): 10 colours and 10 materials (each in 10% of products, 1% have a given
pair), 1,000 eight-letter words (each in ~0.1%).
Then the real CatalogFunction handler answers each query (first page and the next one through the cursor),
and the botocore hooks (bench/awscalls.py) count what DynamoDB read: index items evaluated (ScannedCount),
items returned, products fetched by BatchGetItem, and the read capacity (computed from item sizes).
Latency is moto's (it walks the index partition in Python), not DynamoDB's.

    .venv/bin/python -m bench.search_scale [--sizes 1000 100000] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "shared"), str(ROOT)]

from bench.awscalls import Recorder  # noqa: E402
from bench.inprocess import in_process_stack, query_event  # noqa: E402

COLOURS = ["red", "blue", "green", "black", "white", "grey", "pink", "gold", "navy", "teal"]
MATERIALS = ["cotton", "linen", "wool", "silk", "steel", "oak", "glass", "clay", "cork", "bamboo"]
CATEGORIES = [f"shelf-{n:02d}" for n in range(20)]
SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "ta", "vo", "zi", "be", "du", "fa", "go", "hu", "ji", "po", "se"]


def vocabulary(size: int = 1000) -> list[str]:
    rng = random.Random(17)  # noqa: S311 (test data)
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(4)))  # 8 letters: longer than any colour
    return sorted(words)


WORDS = vocabulary()
RARE = WORDS[7]


def products(start: int, stop: int) -> Iterator[Any]:
    from orders.logic.search import index_entry
    from orders.models.catalog import Product

    for n in range(start, stop):
        # Every 1,000th product has the rare word (~0.1%, like any word); the others a random one.
        word = RARE if n % 1000 == 0 else random.Random(n).choice(WORDS)  # noqa: S311 (test data)
        product = Product.model_validate(
            {
                "sku": f"p{n:07d}",
                "name": f"{COLOURS[n % 10]} {word} {MATERIALS[(n // 10) % 10]}",
                "kind": "physical",
                "price": 100 + n % 5000,
                "currency": "USD",
                "category": CATEGORIES[n % 20],
                "merchant_id": f"merchant-{n % 7}",
            }
        )
        yield product, index_entry(product)


QUERIES: list[tuple[str, dict[str, str]]] = [
    ("browse one category", {"category": "shelf-07"}),
    ("browse everything", {}),
    ("one common word (10%)", {"q": "red"}),
    ("one rare word (0.1%)", {"q": RARE}),
    ("rare word AND common word", {"q": f"red {RARE}"}),
    ("two common words (1% have both)", {"q": "red cotton"}),
    ("two common words in a category", {"q": "red cotton", "category": "shelf-00"}),
    ("two common words never together", {"q": "red blue"}),
]


def run(sizes: list[int]) -> dict[str, Any]:
    from orders.dal.catalog import CatalogRepository

    recorder = Recorder()
    recorder.install()
    results: list[dict[str, Any]] = []
    try:
        with in_process_stack() as (ddb, runtime):
            recorder.describe_tables(ddb, ["CatalogTable"])
            loaded = written = 0
            load_seconds = 0.0
            for size in sorted(sizes):
                started = time.perf_counter()
                with recorder.suspended():  # the next size adds products to the ones already there
                    written += CatalogRepository("CatalogTable", client=ddb).bulk_load(products(loaded, size))
                load_seconds += time.perf_counter() - started
                loaded = size
                for label, query in QUERIES:
                    cursor = None
                    for page_no in (1, 2):
                        params = {**query, "limit": "20", **({"cursor": cursor} if cursor else {})}
                        with recorder.invocation("CatalogFunction", f"{label} p{page_no}") as inv:
                            began = time.perf_counter()
                            response = runtime.invoke("CatalogFunction", query_event("catalog_list_products", params))
                            ms = (time.perf_counter() - began) * 1000
                        body = json.loads(response["body"])
                        assert response["statusCode"] == 200, body
                        results.append(
                            {
                                "products": size,
                                "items_in_table": written,
                                "load_seconds": round(load_seconds, 1),
                                "query": label,
                                "params": query,
                                "page": page_no,
                                "returned": len(body["items"]),
                                "more": body["next_cursor"] is not None,
                                "calls": inv.by_api(),
                                "index_items_scanned": sum(c.scanned for c in inv.calls if c.operation == "Query"),
                                "products_fetched": sum(
                                    c.items_read for c in inv.calls if c.operation == "BatchGetItem"
                                ),
                                "rcu": round(sum(c.rcu for c in inv.calls), 1),
                                "ms_moto": round(ms, 1),
                            }
                        )
                        cursor = body["next_cursor"]
                        if not cursor:
                            break
    finally:
        recorder.uninstall()
    return {"limit": 20, "results": results}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 100000])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    out = run(args.sizes)
    print(f"{'products':>8} {'query':<34} {'page':>4} {'ret':>4} {'more':>5} {'scanned':>7} {'fetched':>7} {'rcu':>6}")
    for r in out["results"]:
        print(
            f"{r['products']:>8} {r['query']:<34} {r['page']:>4} {r['returned']:>4} {r['more']!s:>5} "
            f"{r['index_items_scanned']:>7} {r['products_fetched']:>7} {r['rcu']:>6}  {r['calls']} {r['ms_moto']} ms"
        )
    loads = {r["products"]: (r["items_in_table"], r["load_seconds"]) for r in out["results"]}
    for size, (items, seconds) in loads.items():
        print(f"{size} products = {items} items loaded in {seconds} s")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
