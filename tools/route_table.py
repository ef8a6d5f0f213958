"""Write the README's route table from docs/openapi.json and docs/architecture.md's function table from
template.yaml (`make openapi` runs it after tools/openapi.py).

One row per operation, in the order of the document's tags, then by path: the method and path with its query
parameters, who may call it (the operation's ``x-callers``: from the handler's ``requires_role``, ``owner_or``
or ``signed_by`` declaration) and what it does (its summary and description). The table sits between two
marker comments in README.md; everything around them is prose and is left alone. An area's doc holds the rows
of its tags the same way (docs/refunds.md: ``<!-- route table (tags: refunds): written by ... -->``).
The function table lists each function of template.yaml with what triggers it (its API routes, stream,
topic, schedule or state machine) and the first paragraph of its handler module's docstring, between its own
markers in docs/architecture.md.
tests/tooling/test_route_table.py fails when a committed table is not what this writes.
Usage: python tools/route_table.py [README.md] [docs/openapi.json] [docs/architecture.md]
"""

from __future__ import annotations

import ast
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "shared"), str(ROOT)]

from local_stack.template import load_template, resources  # noqa: E402

BEGIN = "<!-- route table: written by `make openapi` (tools/route_table.py) from docs/openapi.json; do not edit -->"
END = "<!-- end of route table -->"
# An area's doc (docs/refunds.md) holds the rows of its tags: "<!-- route table (tags: refunds): written by ... -->".
BLOCK = re.compile(
    r"<!-- route table(?: \(tags: (?P<tags>[\w, -]+)\))?: written by [^>]*-->\n.*?" + re.escape(END), re.DOTALL
)
METHODS = ("get", "post", "put", "patch", "delete")
FUNCTIONS_BEGIN = "<!-- function table: written by `make openapi` (tools/route_table.py); do not edit -->"
FUNCTIONS_END = "<!-- end of function table -->"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def rows(document: dict[str, Any], tags: tuple[str, ...] = ()) -> list[tuple[str, str, str]]:
    """(method and path, who, what) of every operation (of one of ``tags``, if any), in table order."""
    order = {tag["name"]: index for index, tag in enumerate(document.get("tags", []))}
    found: list[tuple[tuple[int, str, int], tuple[str, str, str]]] = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            (tag,) = operation["tags"]
            if tags and tag not in tags:
                continue
            query = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
            where = f"`{method.upper()} {path}{'?' + '&'.join(f'{name}=' for name in query) if query else ''}`"
            what = operation["summary"] + (f". {operation['description']}" if operation.get("description") else "")
            key = (order[tag], path, METHODS.index(method))
            found.append((key, (where, ", ".join(operation["x-callers"]), what)))
    return [row for _, row in sorted(found)]


def render(document: dict[str, Any], tags: tuple[str, ...] = ()) -> str:
    begin = BEGIN.replace("route table:", f"route table (tags: {', '.join(tags)}):") if tags else BEGIN
    lines = [begin, "| method and path | who | what |", "| --- | --- | --- |"]
    lines += [f"| {_cell(where)} | {_cell(who)} | {_cell(what)} |" for where, who, what in rows(document, tags)]
    return "\n".join([*lines, END])


def update(text: str, document: dict[str, Any]) -> str:
    """``text`` with every route table block written again (each with its own tags)."""
    known = {tag["name"] for tag in document.get("tags", [])}

    def again(block: re.Match[str]) -> str:
        tags = tuple(t.strip() for t in (block.group("tags") or "").split(",") if t.strip())
        if set(tags) - known:
            raise ValueError(f"unknown tags in a route table marker: {sorted(set(tags) - known)}")
        return render(document, tags)

    return BLOCK.sub(again, text)


def documents_with_route_tables(root: Path = ROOT) -> list[Path]:
    """README.md and every docs/*.md that holds a route table."""
    return [path for path in [root / "README.md", *sorted(root.glob("docs/*.md"))] if BLOCK.search(path.read_text())]


def _ref(value: Any) -> str:
    """The logical id a ``!Ref`` / ``!GetAtt`` names (``Fn::GetAtt: [OrdersTable, StreamArn]`` → OrdersTable)."""
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"]).split(".")[0]
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return str(value["Fn::GetAtt"][0])
    return str(value)


def _trigger(event: dict[str, Any]) -> str:
    kind, props = event["Type"], event["Properties"]
    if kind == "Api":
        return f"`{props['Method'].upper()} {props['Path']}`"
    if kind == "DynamoDB":
        return f"{_ref(props['Stream'])} stream" + (" (filtered)" if props.get("FilterCriteria") else "")
    if kind == "SNS":
        return f"SNS {_ref(props['Topic'])}"
    if kind == "Schedule":
        job = json.loads(props.get("Input") or "{}").get("job")
        return f"`{props['Schedule']}`" + (f" {job}" if job else "")
    return str(kind)


def function_rows(template: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(function and folder, triggered by, its handler's docstring) of every function, in template order."""
    machines = {
        _ref(value): name
        for name, machine in resources(template, "AWS::Serverless::StateMachine").items()
        for value in (machine["Properties"].get("DefinitionSubstitutions") or {}).values()
    }
    found = []
    for name, function in resources(template, "AWS::Serverless::Function").items():
        props = function["Properties"]
        triggers = [_trigger(event) for event in (props.get("Events") or {}).values()]
        if name in machines:
            triggers.append(f"{machines[name]} task steps")
        folder = str(props["CodeUri"]).rstrip("/")
        doc = ast.get_docstring(ast.parse((ROOT / folder / "app.py").read_text())) or ""
        found.append((f"{name} (`{folder}`)", ", ".join(triggers), doc.split("\n\n")[0].replace("``", "`")))
    return found


def render_functions(template: dict[str, Any]) -> str:
    lines = [FUNCTIONS_BEGIN, "| function | triggered by | what it does |", "| --- | --- | --- |"]
    lines += [f"| {_cell(a)} | {_cell(b)} | {_cell(c)} |" for a, b, c in function_rows(template)]
    return "\n".join([*lines, FUNCTIONS_END])


def replace(text: str, table: str, begin: str = BEGIN, end: str = END) -> str:
    """``text`` with the block between the markers (markers included) replaced by ``table``."""
    if text.count(begin) != 1 or text.count(end) != 1 or text.index(begin) > text.index(end):
        raise ValueError(f"expected one {begin!r} ... {end!r} block")
    start, stop = text.index(begin), text.index(end) + len(end)
    return text[:start] + table + text[stop:]


def _write(path: Path, table: str, begin: str, end: str) -> None:
    text = path.read_text()
    updated = replace(text, table, begin, end)
    if updated != text:
        path.write_text(updated)


def main(
    readme: Path = ROOT / "README.md",
    openapi: Path = ROOT / "docs" / "openapi.json",
    architecture: Path = ROOT / "docs" / "architecture.md",
) -> None:
    document = json.loads(openapi.read_text())
    _write(readme, render(document), BEGIN, END)
    for path in documents_with_route_tables(readme.parent):
        text = path.read_text()
        if update(text, document) != text:
            path.write_text(update(text, document))
    _write(architecture, render_functions(load_template()), FUNCTIONS_BEGIN, FUNCTIONS_END)


if __name__ == "__main__":
    main(*(Path(arg) for arg in sys.argv[1:4]))
