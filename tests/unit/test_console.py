"""The staff console's static files: small, no HTML built from strings, served only from console/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from local_stack.apigw import CONSOLE_HEADERS, serve_static
from local_stack.template import ROOT

CONSOLE = ROOT / "console"
SHIPPED = [path for path in CONSOLE.rglob("*") if path.is_file() and path.suffix in (".html", ".js", ".css")]
BUDGET_BYTES = 150 * 1024


def test_the_console_ships_under_150_kb() -> None:
    # Given every file the console ships / Then together they stay under the budget
    total = sum(path.stat().st_size for path in SHIPPED)
    print(f"\nconsole shipped size: {total} bytes in {len(SHIPPED)} files")
    assert 0 < total < BUDGET_BYTES


@pytest.mark.parametrize("path", [p for p in SHIPPED if p.suffix == ".js"], ids=lambda p: p.name)
def test_no_script_builds_html_from_strings(path: Path) -> None:
    # Given a console script / Then it never parses strings as HTML nor evaluates code
    source = path.read_text()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in source, f"{path.name} uses {sink}"


def test_the_page_has_no_inline_script_or_style() -> None:
    # Given the console's page / Then every script and style is a file (the CSP forbids inline ones)
    page = (CONSOLE / "index.html").read_text()
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == []
    assert "<style" not in page and " style=" not in page and " on" not in re.sub(r"\s+", " ", page).replace(" one", "")


def test_every_module_the_console_imports_exists() -> None:
    # Given the import statements of every script / Then each names a shipped file
    for path in (p for p in SHIPPED if p.suffix == ".js"):
        for target in re.findall(r'from "(\.[^"]+)"', path.read_text()):
            assert (path.parent / target).resolve().is_file(), f"{path.name} imports missing {target}"


def test_files_are_served_with_the_security_headers_and_nothing_outside_console() -> None:
    # When the index, a module, the folder without a slash and paths escaping the folder are asked for
    index = serve_static(CONSOLE, "GET", "/console/")
    module = serve_static(CONSOLE, "GET", "/console/lib/dom.js")
    bare = serve_static(CONSOLE, "GET", "/console")
    escapes = [serve_static(CONSOLE, "GET", p) for p in ("/console/../template.yaml", "/console/../../etc/passwd")]
    # Then the files come with their type and the CSP, the folder redirects, and nothing escapes
    assert (index.status, module.status, bare.status) == (200, 200, 301)
    assert ("Content-Type", "text/javascript; charset=utf-8") in module.headers
    assert all(header in index.headers for header in CONSOLE_HEADERS)
    assert [r.status for r in escapes] == [404, 404]
    assert serve_static(CONSOLE, "POST", "/console/").status == 405
