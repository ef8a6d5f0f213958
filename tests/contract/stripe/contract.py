"""Stripe's published contract, kept in the repository: schema subset and fixtures (see README.md)."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


@cache
def schemas() -> dict[str, Any]:
    document: dict[str, Any] = json.loads((HERE / "schemas.json").read_text())
    return document


@cache
def _fixtures() -> dict[str, Any]:
    resources: dict[str, Any] = json.loads((HERE / "fixtures.json").read_text())["resources"]
    return resources


def fixture(resource: str, **fields: Any) -> dict[str, Any]:
    """A copy of Stripe's own fixture object for ``resource``, with ``fields`` set."""
    obj: dict[str, Any] = copy.deepcopy(_fixtures()[resource])
    obj.update(fields)
    return obj


def schema_errors(resource: str, obj: Any) -> list[str]:
    """Every way ``obj`` breaks the spec's schema for ``resource`` (OpenAPI 3.0 semantics: nullable)."""
    from openapi_schema_validator import OAS30Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4

    registry: Registry[Any] = Registry().with_resource(
        "urn:stripe-spec", Resource.from_contents(schemas(), default_specification=DRAFT4)
    )
    validator = OAS30Validator({"$ref": f"urn:stripe-spec#/components/schemas/{resource}"}, registry=registry)
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in validator.iter_errors(obj)]


def event(event_type: str, obj: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """Stripe's fixture event carrying ``obj``."""
    return fixture("event", type=event_type, data={"object": obj}, **fields)
