"""Translate template.yaml with the SAM translator and print the CloudFormation JSON.

cfn-lint on the translated output sees the resources SAM generates (roles, permissions,
deployments, stages), which `sam validate --lint` does not check. The template's language extensions
(Fn::ForEach) are expanded first, as CloudFormation does before the SAM transform.

``--normalised`` prints what deploys, in a stable form (see :func:`normalised`): it is the golden file
tests/fixtures/sam_translation.json, which tests/tooling/test_sam_translation.py compares with the
template's translation (`make golden` rewrites it after an intended change).
Usage: python tools/translate_template.py [--normalised] [template.yaml] > build/template.cfn.json
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from samtranslator.parser.parser import Parser
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from local_stack.language_extensions import expand


class _NoManagedPolicies:
    """Policies are inline statements or full ARNs here, so no IAM look-up is ever needed."""

    def load(self) -> dict[str, str]:
        return {}


def translate(path: Path) -> dict[str, Any]:
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    template = expand(yaml_parse(path.read_text()))
    _as_packaged(template, path.parent)
    parameters = {"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012", "AWS::Partition": "aws"}
    return transform(template, parameters, _NoManagedPolicies(), Parser())  # type: ignore[no-any-return]


def _as_packaged(template: dict[str, Any], base: Path) -> None:
    """Point local code folders at S3, as `sam package` would, so the translator accepts them.

    A state machine's local DefinitionUri is inlined as its Definition instead, so cfn-lint also
    checks the ASL (states, Next targets, task fields) with the substitutions in place.
    """
    for resource in template.get("Resources", {}).values():
        props = resource.get("Properties", {})
        if resource.get("Type") == "AWS::Serverless::StateMachine" and isinstance(props.get("DefinitionUri"), str):
            uri = props.pop("DefinitionUri")
            definition = base / uri if (base / uri).is_file() else Path(__file__).resolve().parent.parent / uri
            props["Definition"] = json.loads(definition.read_text())
    uri_property = {"AWS::Serverless::Function": "CodeUri", "AWS::Serverless::LayerVersion": "ContentUri"}
    for logical_id, resource in template.get("Resources", {}).items():
        prop = uri_property.get(resource.get("Type"))
        if prop and isinstance(resource.get("Properties", {}).get(prop), str):
            resource["Properties"][prop] = f"s3://packaged-artifacts/{logical_id}.zip"


# What a resource deploys with. Metadata (build hints, checker suppressions) deploys nothing.
_DEPLOYED_ATTRIBUTES = ("Type", "Condition", "DependsOn", "DeletionPolicy", "UpdateReplacePolicy", "Properties")


def normalised(translated: dict[str, Any]) -> dict[str, Any]:
    """The deployed part of a translation: every resource (type, properties with their IAM policies,
    conditions and dependencies), the conditions and the outputs; key order does not matter.

    One spelling is made canonical: an ``Fn::Sub`` whose variables are all literal values is written
    with them inlined, and without ``Fn::Sub`` once nothing is left to substitute (CloudFormation
    resolves both to the same string). So ``!Sub ["${AWS::StackName}/${Name}", {Name: cart}]`` equals
    ``!Sub "${AWS::StackName}/cart"``, and ``!Sub ["${S} failed", {S: cart}]`` equals ``"cart failed"``.
    """
    resources = {
        name: {key: _inline_sub(resource[key]) for key in _DEPLOYED_ATTRIBUTES if key in resource}
        for name, resource in translated["Resources"].items()
    }
    return {
        "Conditions": translated.get("Conditions", {}),
        "Outputs": _inline_sub(translated.get("Outputs", {})),
        "Resources": resources,
    }


def _inline_sub(value: Any) -> Any:
    if isinstance(value, list):
        return [_inline_sub(item) for item in value]
    if not isinstance(value, dict):
        return value
    value = {key: _inline_sub(item) for key, item in value.items()}
    sub = value.get("Fn::Sub") if list(value) == ["Fn::Sub"] else None
    if isinstance(sub, list) and len(sub) == 2 and isinstance(sub[0], str) and isinstance(sub[1], dict):
        text, variables = sub[0], dict(sub[1])
        for name, literal in list(variables.items()):
            if isinstance(literal, str | int | float) and not isinstance(literal, bool):
                text = text.replace("${" + name + "}", str(literal))
                del variables[name]
        sub = [text, variables] if variables else text
    if isinstance(sub, str) and "${" not in sub:
        return sub
    return {"Fn::Sub": sub} if sub is not None else value


def main(argv: list[str]) -> None:
    flags = [a for a in argv if a.startswith("--")]
    paths = [a for a in argv if not a.startswith("--")]
    translated = translate(Path(paths[0] if paths else "template.yaml"))
    json.dump(normalised(translated) if "--normalised" in flags else translated, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1:])
