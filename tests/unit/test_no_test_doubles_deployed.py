"""Nothing deployable can select a test double: the layer holds none and no parameter offers one."""

from __future__ import annotations

import ast

from local_stack.template import ROOT, load_template


def test_the_layer_defines_no_fake_or_stub_class() -> None:
    # Given every module of the Lambda layer
    doubles = []
    for path in sorted((ROOT / "shared" / "orders").rglob("*.py")):
        # When its classes are listed
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and node.name.lower().startswith(("fake", "stub", "mock", "dummy")):
                doubles.append(f"{path.relative_to(ROOT)}:{node.name}")
    # Then none is a test double (they live in local_stack/ and tests/)
    assert doubles == []


def test_no_template_parameter_offers_a_fake() -> None:
    # Given the deployable template's parameters
    parameters = load_template().get("Parameters", {})
    # When their allowed values are read
    offering = {name for name, spec in parameters.items() if "fake" in map(str, spec.get("AllowedValues", []))}
    # Then none lets a deployment choose a stand-in
    assert offering == set()
