"""The SAM translation of template.yaml deploys exactly what tests/fixtures/sam_translation.json records.

The golden file is the normalised translation (resources, their types, properties and IAM policies,
conditions, outputs; tools/translate_template.py). A refactor of the template must leave it equal; an
intended change rewrites it with `make golden`, and the diff is reviewed with the change.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any

from local_stack.template import ROOT
from tools.translate_template import normalised, translate

GOLDEN = ROOT / "tests" / "fixtures" / "sam_translation.json"


def _lines(document: dict[str, Any]) -> list[str]:
    return json.dumps(document, indent=1, sort_keys=True).splitlines()


def translation_diff(template: Path) -> list[str]:
    """The unified diff from the golden file to the template's normalised translation (empty: equal)."""
    current = normalised(translate(template))
    golden = json.loads(GOLDEN.read_text())
    return list(difflib.unified_diff(_lines(golden), _lines(current), "golden", "template.yaml", lineterm="", n=4))


def test_the_sam_translation_equals_the_golden_file() -> None:
    diff = translation_diff(ROOT / "template.yaml")
    shown = "\n".join(diff[:200]) + (f"\n... {len(diff) - 200} more lines" if len(diff) > 200 else "")
    assert not diff, f"the SAM translation changed (if intended: `make golden`, and review the diff):\n{shown}"


def test_a_changed_policy_shows_in_the_diff(tmp_path: Path) -> None:
    # Given the template with one more action granted to the catalog function
    changed = tmp_path / "template.yaml"
    text = (ROOT / "template.yaml").read_text()
    granted = "[dynamodb:GetItem, dynamodb:BatchGetItem], Resource: !GetAtt CatalogTable.Arn"
    assert text.count(granted) == 1
    changed.write_text(text.replace(granted, granted.replace("BatchGetItem]", "BatchGetItem, s3:*]")))
    (tmp_path / "statemachines").symlink_to(ROOT / "statemachines")
    # When it is compared with the golden file
    diff = translation_diff(changed)
    # Then the diff shows the new action, and nothing else changed
    changes = [" ".join(line.split()) for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert changes == ['- "dynamodb:BatchGetItem"', '+ "dynamodb:BatchGetItem",', '+ "s3:*"']
