"""Expand the AWS::LanguageExtensions constructs template.yaml uses, as CloudFormation does before SAM.

template.yaml generates its per-function log groups and alarms with ``Fn::ForEach``. CloudFormation
expands them at deploy time (the ``AWS::LanguageExtensions`` transform runs before SAM's); every tool
here that reads the template (the local stack, the SAM translation, the events, the security scan,
deploy-check) expands them first with :func:`expand`, so they all see the resources that deploy.

Supported, as documented for the transform: ``Fn::ForEach::<Loop>: [Identifier, Collection, Body]``
where a mapping key may stand (the Conditions, Resources and Outputs sections and inside a resource),
nested loops, ``${Identifier}`` and ``&{Identifier}`` (non-alphanumerics dropped) in keys and strings,
``{"Ref": Identifier}``; a Collection is a list of strings or an ``Fn::FindInMap`` whose keys are
strings or loop identifiers. The transform resolves the intrinsic functions it allows where CloudFormation
does not: so does :func:`expand` for ``Fn::FindInMap`` once the loops have made its keys plain strings
(one with a ``Ref`` to a parameter is left to CloudFormation), and for the ``Fn::Sub`` that names the
target of a ``Ref`` or ``Fn::GetAtt`` (``{"Ref": {"Fn::Sub": "${Name}Function"}}``). A Mappings section
nothing refers to any more is dropped (it deploys nothing). Anything else raises
:class:`LanguageExtensionError`: the local tools never guess.

SAM CLI expands the template itself for ``sam build`` / ``sam validate`` (``--language-extensions``, set in
samconfig.toml); its expansion also resolves parameters to their defaults, which is right for a local build
and wrong for a translation meant to equal the deployed one.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

TRANSFORM = "AWS::LanguageExtensions"
_PREFIX = "Fn::ForEach::"
_SECTIONS = ("Conditions", "Resources", "Outputs")


class LanguageExtensionError(ValueError):
    """A language-extension construct this expander does not handle (or a malformed one)."""


def uses_language_extensions(template: Mapping[str, Any]) -> bool:
    transform = template.get("Transform", [])
    return TRANSFORM in (transform if isinstance(transform, list) else [transform])


def expand(template: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``template`` with every Fn::ForEach expanded and the LanguageExtensions transform removed."""
    result = copy.deepcopy(dict(template))
    if not uses_language_extensions(result):
        return result
    mappings = result.get("Mappings", {})
    for section in _SECTIONS:
        if section in result:
            result[section] = _expand_keys(result[section], mappings, section)
    if "Resources" in result:
        for name, resource in result["Resources"].items():
            if isinstance(resource, dict):
                result["Resources"][name] = _expand_nested(resource, mappings, name)
    for section in (*_SECTIONS, "Globals"):
        if section in result:
            result[section] = _resolve(result[section], mappings)
    if "Mappings" in result and "Fn::FindInMap" not in repr({k: v for k, v in result.items() if k != "Mappings"}):
        del result["Mappings"]
    transforms = [t for t in _as_list(result["Transform"]) if t != TRANSFORM]
    if not transforms:
        del result["Transform"]
    else:
        result["Transform"] = transforms[0] if len(transforms) == 1 else transforms
    return result


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _expand_nested(value: Any, mappings: Mapping[str, Any], where: str) -> Any:
    """Expand loops inside a resource (e.g. in Properties), depth first."""
    if isinstance(value, dict):
        value = _expand_keys(value, mappings, where)
        return {key: _expand_nested(item, mappings, where) for key, item in value.items()}
    if isinstance(value, list):
        return [_expand_nested(item, mappings, where) for item in value]
    return value


def _expand_keys(section: Any, mappings: Mapping[str, Any], where: str) -> Any:
    """Replace each ``Fn::ForEach::`` key of a mapping with the entries its loop generates."""
    if not isinstance(section, dict) or not any(str(key).startswith(_PREFIX) for key in section):
        return section
    expanded: dict[str, Any] = {}
    for key, value in section.items():
        generated = _loop(key, value, mappings, where) if str(key).startswith(_PREFIX) else {key: value}
        for name, item in generated.items():
            if name in expanded:
                raise LanguageExtensionError(f"{where}: {key} generates {name}, which is already defined")
            expanded[name] = item
    return expanded


def _loop(key: str, value: Any, mappings: Mapping[str, Any], where: str) -> dict[str, Any]:
    if not (isinstance(value, list) and len(value) == 3 and isinstance(value[0], str) and isinstance(value[2], dict)):
        raise LanguageExtensionError(f"{where}: {key} must be [Identifier, Collection, {{OutputKey: OutputValue}}]")
    identifier, collection, body = value
    generated: dict[str, Any] = {}
    for item in _collection(collection, mappings, f"{where}: {key}"):
        for name, output in _expand_keys(_substitute(body, identifier, item), mappings, where).items():
            if name in generated:
                raise LanguageExtensionError(f"{where}: {key} generates {name} twice")
            generated[name] = output
    return generated


def _collection(collection: Any, mappings: Mapping[str, Any], where: str) -> list[str]:
    if isinstance(collection, dict) and list(collection) == ["Fn::FindInMap"]:
        args = collection["Fn::FindInMap"]
        if not (isinstance(args, list) and len(args) == 3 and all(isinstance(a, str) for a in args)):
            raise LanguageExtensionError(f"{where}: the collection's Fn::FindInMap keys must be strings: {args}")
        try:
            collection = mappings[args[0]][args[1]][args[2]]
        except KeyError as exc:
            raise LanguageExtensionError(f"{where}: Fn::FindInMap {args} is not in Mappings") from exc
    if not (isinstance(collection, list) and all(isinstance(item, str) for item in collection)):
        raise LanguageExtensionError(f"{where}: the collection must be a list of strings, got {collection!r}")
    return collection


def _resolve(value: Any, mappings: Mapping[str, Any]) -> Any:
    """Resolve Fn::FindInMap with plain keys, and a plain Fn::Sub naming the target of Ref / Fn::GetAtt."""
    if isinstance(value, list):
        return [_resolve(item, mappings) for item in value]
    if not isinstance(value, dict):
        return value
    value = {key: _resolve(item, mappings) for key, item in value.items()}
    if list(value) == ["Fn::FindInMap"]:
        args = value["Fn::FindInMap"]
        if isinstance(args, list) and len(args) == 3 and all(isinstance(a, str) for a in args):
            try:
                return copy.deepcopy(mappings[args[0]][args[1]][args[2]])
            except KeyError as exc:
                raise LanguageExtensionError(f"Fn::FindInMap {args} is not in Mappings") from exc
    if list(value) == ["Ref"]:
        return {"Ref": _plain_sub(value["Ref"])}
    if list(value) == ["Fn::GetAtt"] and isinstance(value["Fn::GetAtt"], list) and value["Fn::GetAtt"]:
        return {"Fn::GetAtt": [_plain_sub(value["Fn::GetAtt"][0]), *value["Fn::GetAtt"][1:]]}
    return value


def _plain_sub(name: Any) -> Any:
    """``{"Fn::Sub": "CatalogFunction"}`` (no variable left) → ``"CatalogFunction"``."""
    if (
        isinstance(name, dict)
        and list(name) == ["Fn::Sub"]
        and isinstance(name["Fn::Sub"], str)
        and "${" not in name["Fn::Sub"]
    ):
        return name["Fn::Sub"]
    return name


def _substitute(value: Any, identifier: str, item: str) -> Any:
    if isinstance(value, str):
        stripped = re.sub(r"[^0-9A-Za-z]", "", item)
        return value.replace("${" + identifier + "}", item).replace("&{" + identifier + "}", stripped)
    if isinstance(value, dict):
        if value == {"Ref": identifier}:
            return item
        return {_substitute(k, identifier, item): _substitute(v, identifier, item) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, identifier, item) for v in value]
    return value
