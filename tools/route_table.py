"""Write the README's route table from docs/openapi.json (`make openapi` runs it after tools/openapi.py).

One row per operation, in the order of the document's tags, then by path: the method and path with its query
parameters, who may call it (the operation's ``x-callers``: from the handler's ``requires_role``, ``owner_or``
or ``signed_by`` declaration) and what it does (its summary and description). The table sits between two
marker comments in README.md; everything around them is prose and is left alone.
tests/tooling/test_route_table.py fails when the committed table is not what this writes.
Usage: python tools/route_table.py [README.md] [docs/openapi.json]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BEGIN = "<!-- route table: written by `make openapi` (tools/route_table.py) from docs/openapi.json; do not edit -->"
END = "<!-- end of route table -->"
METHODS = ("get", "post", "put", "patch", "delete")


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def rows(document: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(method and path, who, what) of every operation, in table order."""
    order = {tag["name"]: index for index, tag in enumerate(document.get("tags", []))}
    found: list[tuple[tuple[int, str, int], tuple[str, str, str]]] = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            (tag,) = operation["tags"]
            query = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
            where = f"`{method.upper()} {path}{'?' + '&'.join(f'{name}=' for name in query) if query else ''}`"
            what = operation["summary"] + (f". {operation['description']}" if operation.get("description") else "")
            key = (order[tag], path, METHODS.index(method))
            found.append((key, (where, ", ".join(operation["x-callers"]), what)))
    return [row for _, row in sorted(found)]


def render(document: dict[str, Any]) -> str:
    lines = [BEGIN, "| method and path | who | what |", "| --- | --- | --- |"]
    lines += [f"| {_cell(where)} | {_cell(who)} | {_cell(what)} |" for where, who, what in rows(document)]
    return "\n".join([*lines, END])


def replace(text: str, table: str) -> str:
    """``text`` with the block between the markers (markers included) replaced by ``table``."""
    if text.count(BEGIN) != 1 or text.count(END) != 1 or text.index(BEGIN) > text.index(END):
        raise ValueError(f"expected one {BEGIN!r} ... {END!r} block")
    start, end = text.index(BEGIN), text.index(END) + len(END)
    return text[:start] + table + text[end:]


def main(readme: Path = ROOT / "README.md", openapi: Path = ROOT / "docs" / "openapi.json") -> None:
    document = json.loads(openapi.read_text())
    text = readme.read_text()
    updated = replace(text, render(document))
    if updated != text:
        readme.write_text(updated)


if __name__ == "__main__":
    main(*(Path(arg) for arg in sys.argv[1:3]))
