"""Count the repeated blocks of a YAML file (the `duplicates` tool of the library skips YAML).

A block is a run of at least N consecutive lines (default 6; blank and comment-only lines are
passed over, white space is folded) that stands again somewhere else in the file. ``exact``: the
same lines to the letter; ``shape``: the same keys, whatever the values (``Path: /cart`` and
``Path: /orders`` are alike). Overlapping windows fold into one block; every place counts.
Usage: python tools/repeated_blocks.py [template.yaml] [--min-lines 6]
"""

from __future__ import annotations

import argparse
import re
from collections import defaultdict
from pathlib import Path

_KEY = re.compile(r"^(- )?([^:#'\"]+?):(\s|$)")


def _lines(text: str) -> list[tuple[int, str]]:
    """(line number, folded text) of each line that says something."""
    kept = []
    for number, line in enumerate(text.splitlines(), start=1):
        folded = " ".join(line.split())
        if folded and not folded.startswith("#"):
            kept.append((number, folded))
    return kept


def _shape(line: str) -> str:
    """The line with its value masked: keys (and list dashes) stay."""
    match = _KEY.match(line)
    if match:
        return f"{match.group(1) or ''}{match.group(2)}: _"
    return "- _" if line.startswith("- ") else "_"


def repeated_blocks(text: str, min_lines: int = 6, shape: bool = False) -> list[tuple[int, int]]:
    """(first line, last line) of every block of ``min_lines`` or more lines that stands elsewhere too."""
    lines = _lines(text)
    keys = [_shape(line) if shape else line for _, line in lines]
    places: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for offset in range(len(keys) - min_lines + 1):
        places[tuple(keys[offset : offset + min_lines])].append(offset)
    covered = [False] * len(keys)
    for starts in places.values():
        if len(starts) > 1:
            for first in starts:
                for index in range(first, first + min_lines):
                    covered[index] = True
    blocks: list[tuple[int, int]] = []
    start: int | None = None
    for index, flag in enumerate([*covered, False]):
        if flag and start is None:
            start = index
        elif not flag and start is not None:
            blocks.append((lines[start][0], lines[index - 1][0]))
            start = None
    return blocks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", nargs="?", default="template.yaml")
    parser.add_argument("--min-lines", type=int, default=6)
    args = parser.parse_args()
    text = Path(args.path).read_text()
    print(f"{args.path}: {len(text.splitlines())} lines")
    for kind in ("exact", "shape"):
        blocks = repeated_blocks(text, args.min_lines, shape=kind == "shape")
        covered = sum(len([n for n, _ in _lines(text) if a <= n <= b]) for a, b in blocks)
        print(f"{kind}: {len(blocks)} repeated blocks of {args.min_lines}+ lines, {covered} lines in them")


if __name__ == "__main__":
    main()
