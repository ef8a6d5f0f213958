"""tools/repeated_blocks.py: the count of repeated blocks reported for template.yaml (the library's tool skips YAML)."""

from __future__ import annotations

from tools.repeated_blocks import repeated_blocks

BLOCK = "\n".join(f"  Key{i}: value{i}" for i in range(6))


def test_a_block_of_six_lines_standing_twice_counts_at_both_places() -> None:
    # Given six lines written twice, apart, with a comment and blank lines in between
    text = f"Top: 1\n{BLOCK}\n# a comment\n\nMiddle: 2\n{BLOCK}\n"
    # Then both places are a repeated block (line numbers of the file), and five lines are not enough
    assert repeated_blocks(text) == [(2, 7), (11, 16)]
    assert repeated_blocks(text.replace("  Key5: value5\n", "", 1)) == []


def test_the_shape_count_sees_the_same_keys_with_other_values() -> None:
    other = BLOCK.replace("value", "other")
    text = f"{BLOCK}\nSeparator: x\n{other}\n"
    assert repeated_blocks(text) == []
    assert repeated_blocks(text, shape=True) == [(1, 6), (8, 13)]
