"""One-off: index the products stored before categories and search existed (issue 17; docs/search.md).

Products written before the SearchIndex existed carry no index state (``index_rev``): they are readable by sku
and orderable, but not browsed, searched or counted. This job finds them (the one Scan of the design, run once,
filtered to never-indexed products) and sends each through the same transaction as PATCH /products/{sku}, so
it is safe to run while the API serves (a product changed at the same moment is retried) and to run again
(already indexed products are skipped).

    AWS_PROFILE=... .venv/bin/python tools/search_backfill.py --table <CatalogTableName stack output>
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "shared"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--table", required=True, help="the catalog table (stack output CatalogTableName)")
    args = parser.parse_args(argv)

    from orders import cache, config
    from orders.logic.catalog import backfill_index

    config.use_environment(lambda: {**os.environ, "CATALOG_TABLE": args.table})
    cache.reset()
    count = backfill_index()
    print(f"indexed {count} product(s) of {args.table}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
