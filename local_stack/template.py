"""Read template.yaml: the one description of the system, for tests and the local stack alike.

Tables, functions, their environment and their API routes all come from here, so what runs
locally cannot drift from what is deployed.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

from local_stack.language_extensions import expand

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """YAML loader that turns CloudFormation short tags (!Ref, !GetAtt, !Sub, ...) into their long form."""


def _construct_tag(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{tag_suffix}": value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


@cache
def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    """The template as CloudFormation hands it to SAM: its language extensions (Fn::ForEach) expanded."""
    return expand(load_raw_template(path))


@cache
def load_raw_template(path: Path = TEMPLATE) -> dict[str, Any]:
    """The template as written (loops and Mappings as they are); read it, do not change it (it is cached)."""
    with path.open() as handle:
        template: dict[str, Any] = yaml.load(handle, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    return template


def resources(template: Mapping[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: res for name, res in template["Resources"].items() if res["Type"] == kind}


# --- tables ------------------------------------------------------------------------------------
_CREATE_TABLE_KEYS = (
    "AttributeDefinitions",
    "KeySchema",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "BillingMode",
    "StreamSpecification",
)


def table_definitions(template: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """CreateTable arguments of every AWS::DynamoDB::Table, by logical id (TTL given separately)."""
    tables = {}
    for name, resource in resources(template, "AWS::DynamoDB::Table").items():
        props = resource["Properties"]
        spec = {key: props[key] for key in _CREATE_TABLE_KEYS if key in props}
        if "StreamSpecification" in spec:
            spec["StreamSpecification"] = {"StreamEnabled": True, **spec["StreamSpecification"]}
        if "TimeToLiveSpecification" in props:
            spec["_ttl"] = props["TimeToLiveSpecification"]
        tables[name] = spec
    return tables


def create_tables(client: Any, template: Mapping[str, Any], names: Mapping[str, str]) -> None:
    """Create every table of the template in ``client``'s DynamoDB, named by ``names[logical id]``."""
    for logical_id, spec in table_definitions(template).items():
        kwargs = {key: value for key, value in spec.items() if not key.startswith("_")}
        client.create_table(TableName=names[logical_id], **kwargs)
        if "_ttl" in spec:
            client.update_time_to_live(TableName=names[logical_id], TimeToLiveSpecification=spec["_ttl"])


# --- functions ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ApiRoute:
    event_name: str
    method: str
    path: str
    authorized: bool


@dataclass(frozen=True)
class HandlerRoute:
    """A route of a handler's Powertools resolver: the one place a route's path and parameters are written."""

    method: str
    path: str  # API Gateway's form, as in the template: /orders/{order_id}
    name: str  # the handler function's name
    route: Any  # the Powertools Route: func, and the dependant with the parameters and the body model


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_uri: str
    handler: str
    environment: dict[str, Any]
    routes: list[ApiRoute] = field(default_factory=list)
    events: dict[str, Any] = field(default_factory=dict)

    @property
    def module_path(self) -> Path:
        module, _, _ = self.handler.rpartition(".")
        return ROOT / self.code_uri / (module.replace(".", "/") + ".py")

    def load_module(self, instance: int = 0) -> ModuleType:
        """Import the handler module from its CodeUri, as Lambda would (once per execution environment:
        ``instance`` numbers the environments of one function that share this process)."""
        module_name = f"lambda_{self.logical_id}" + (f"__{instance}" if instance else "")
        return sys.modules.get(module_name) or _import_file(module_name, self.module_path)

    @property
    def folder(self) -> str:
        """The function's folder name (``functions/<folder>/``)."""
        return Path(self.code_uri).name

    def handler_routes(self) -> list[HandlerRoute]:
        """The routes of the handler module's resolver (``app``); none for functions without an API."""
        app = getattr(self.load_module(), "app", None)
        routes = [*getattr(app, "_static_routes", []), *getattr(app, "_dynamic_routes", [])]
        return [
            HandlerRoute(route.method, re.sub(r"<(\w+)>", r"{\1}", route.path), route.func.__name__, route)
            for route in routes
        ]

    def load_handler(self, instance: int = 0) -> Callable[[dict[str, Any], Any], Any]:
        return getattr(self.load_module(instance), self.handler.rpartition(".")[2])  # type: ignore[no-any-return]


def _import_file(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def function_specs(template: Mapping[str, Any]) -> dict[str, FunctionSpec]:
    globals_fn = template.get("Globals", {}).get("Function", {})
    global_env = globals_fn.get("Environment", {}).get("Variables", {})
    specs = {}
    for name, resource in resources(template, "AWS::Serverless::Function").items():
        props = resource["Properties"]
        env = {**global_env, **props.get("Environment", {}).get("Variables", {})}
        events = props.get("Events", {})
        routes = [
            ApiRoute(
                event_name=event_name,
                method=event["Properties"]["Method"].upper(),
                path=event["Properties"]["Path"],
                authorized=event["Properties"].get("Auth", {}).get("Authorizer") != "NONE",
            )
            for event_name, event in events.items()
            if event["Type"] == "Api"
        ]
        specs[name] = FunctionSpec(
            logical_id=name,
            code_uri=props.get("CodeUri", globals_fn.get("CodeUri", "")),
            handler=props.get("Handler", globals_fn.get("Handler", "")),
            environment=env,
            routes=routes,
            events=events,
        )
    return specs


def resolve(value: Any, refs: Mapping[str, str]) -> Any:
    """Resolve !Ref / !Sub / !GetAtt ... against ``refs`` (logical id or parameter → local value)."""
    if isinstance(value, dict) and len(value) == 1:
        ((key, arg),) = value.items()
        if key == "Ref":
            return refs[arg]
        if key == "Fn::GetAtt":
            return refs[".".join(arg)]
        if key == "Fn::Sub":
            text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
            lookup = {**refs, **{k: resolve(v, refs) for k, v in extra.items()}}
            for name, replacement in lookup.items():
                text = text.replace("${" + name + "}", str(replacement))
            return text
    if isinstance(value, dict):
        return {k: resolve(v, refs) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, refs) for v in value]
    return value
