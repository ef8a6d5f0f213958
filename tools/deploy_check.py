"""`make deploy-check`: build, package and `sam deploy` the stack into a local moto server, then check it.

No AWS account: a ThreadedMotoServer on 127.0.0.1 stands in for S3, CloudFormation and the services
behind it (AWS_ENDPOINT_URL). Steps, each timed:

1. ``sam build`` (python3.13, arm64; cached between runs);
2. ``sam package``: the functions and the layer are zipped and uploaded to moto's S3;
3. the packaged template is translated with the SAM translator (moto's CloudFormation has no SAM
   transform), and resources moto's CloudFormation crashes on are taken out (listed in the report);
4. ``sam deploy`` of that template: change set, execution, stack CREATE_COMPLETE;
5. checks on what was deployed (secrets only as ARNs, the ops topic's key, queue retention, the Apple
   root in the layer zip, ...).

moto's CloudFormation skips resource types it has no model for: the report lists them, computed from
moto itself, as "not checked by moto". Writes build/deploy-check/report.json; exits non-zero on failure.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "deploy-check"
STACK = "orders-check"
BUCKET = "deploy-check-artifacts"
REGION = "us-east-1"
PARAMETERS = {
    "Stage": "dev",
    "SenderEmail": "orders@example.org",
    "SesIdentity": "example.org",
    "AlertEmail": "ops@example.org",
    "CreateApiGatewayAccountRole": "true",
}
# The variables that used to carry secret values (before orders.secrets): none may come back.
SECRET_VALUE_VARIABLES = ("STRIPE_API_KEY", "STRIPE_WEBHOOK_SECRET", "APPLE_ROOT_CERTIFICATES")
# Resources moto 5.2.5's CloudFormation fails on (a crash, not a skip), with the reason seen.
MOTO_CRASHES = {
    "AWS::Events::Archive": "moto resolves !GetAtt Bus.Arn in SourceArn to its model object and crashes",
    "AWS::Events::Rule": "moto's put_rule from CloudFormation gets a bus model object, not a name, and crashes",
    "AWS::ApiGateway::Deployment": "moto's RestApi ignores the OpenAPI Body SAM generates: 'no methods' to deploy",
}
# Types moto creates by looking up what some of their properties name: if one names a resource taken out, moto
# crashes (a 500 for execute_change_set, not a failed resource). E.g. AWS::Lambda::Permission and the stream's
# AWS::Lambda::EventSourceMapping on the AWS::Lambda::Alias that SnapStart's AutoPublishAlias adds: moto has no
# model for the alias, and its create_event_source_mapping / add_permission look the function up by that name.
MOTO_LOOKS_UP: dict[str, tuple[str, ...]] = {
    "AWS::Lambda::Permission": ("FunctionName",),
    "AWS::Lambda::EventSourceMapping": ("FunctionName", "EventSourceArn"),
}


def crashes_on_removed(template: dict[str, Any], removed: set[str]) -> dict[str, str]:
    """Resources moto would crash on because a property it looks up refers to a resource taken out.

    Repeated until nothing more is found: taking one out may leave another looking up nothing.
    """
    found: dict[str, str] = {}
    while True:
        gone = removed | set(found)
        new: dict[str, str] = {}
        for name, resource in template["Resources"].items():
            if name in gone:
                continue
            for key in MOTO_LOOKS_UP.get(resource["Type"], ()):
                value = json.dumps(resource.get("Properties", {}).get(key))
                hits = sorted(r for r in gone if f'"{r}"' in value or f'"{r}.' in value)
                if hits:
                    new[name] = f"moto looks up {key} and crashes: it refers to {hits[0]}, which moto cannot check"
                    break
        if not new:
            return found
        found |= new


def python313_bin() -> Path | None:
    """python3.13 for `sam build` (the functions' runtime): the newest pyenv 3.13, else on PATH."""
    pyenv = shutil.which("pyenv")
    answer = subprocess.run([pyenv, "root"], capture_output=True, text=True, check=False) if pyenv else None  # noqa: S603
    pyenv_root = answer.stdout.strip() if answer else ""
    candidates = sorted(Path(pyenv_root or Path.home() / ".pyenv").glob("versions/3.13*/bin/python3.13"))
    if candidates:
        return candidates[-1].parent
    found = shutil.which("python3.13")
    return Path(found).parent if found else None


def moto_supported_types() -> set[str]:
    """The resource types moto's CloudFormation can create (every model class it registers)."""
    import importlib
    import pkgutil

    import moto
    from moto.cloudformation.parsing import get_model_list

    for module in pkgutil.iter_modules(moto.__path__):
        try:
            importlib.import_module(f"moto.{module.name}.models")
        except Exception:  # noqa: S112 - a service moto cannot import here has no CloudFormation models to count
            continue
    get_model_list.cache_clear()
    return {t for model in get_model_list() if (t := model.cloudformation_type())}


def run(command: list[str], env: dict[str, str], log: Path) -> float:
    started = time.perf_counter()
    with log.open("w") as out:
        result = subprocess.run(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, check=False)  # noqa: S603
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.stderr.write(log.read_text()[-4000:])
        raise SystemExit(f"deploy-check: `{' '.join(command[:2])}` failed (log: {log})")
    return elapsed


def translate(packaged: Path) -> dict[str, Any]:
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.transform import transform
    from samtranslator.yaml_helper import yaml_parse

    from local_stack.language_extensions import expand
    from tools.translate_template import _NoManagedPolicies

    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    # The packaged template keeps its Fn::ForEach loops (CloudFormation expands them before SAM's transform).
    template = expand(yaml_parse(packaged.read_text()))
    # The state machine's DefinitionUri was uploaded by `sam package`; the translator accepts the S3 form.
    parameters = {"AWS::Region": REGION, "AWS::AccountId": "123456789012", "AWS::Partition": "aws"}
    return transform(template, parameters, _NoManagedPolicies(), Parser())  # type: ignore[no-any-return]


def alias_stand_ins(template: dict[str, Any], removed: set[str]) -> dict[str, Any]:
    """For each Lambda alias taken out (moto has no model for it), its function: what targets the alias
    (API permissions, stream mappings, schedules) is then created and checked against the function."""
    found: dict[str, Any] = {}
    for name in removed:
        resource = template["Resources"][name]
        target = resource.get("Properties", {}).get("FunctionName")
        if resource["Type"] == "AWS::Lambda::Alias" and isinstance(target, dict) and set(target) == {"Ref"}:
            found[name] = {"Fn::GetAtt": [target["Ref"], "Arn"]}
    return found


def strip(template: dict[str, Any], names: set[str], stand_ins: dict[str, Any] | None = None) -> None:
    """Take resources out; what referred to them gets its stand-in if it has one (a function for its alias),
    else a placeholder string (moto cannot resolve them)."""
    import re

    stand_ins = stand_ins or {}

    for name in names:
        del template["Resources"][name]

    def placeholder(name: str, attribute: str | None = None) -> str:
        return f"arn:aws:not-checked:{REGION}:123456789012:{name}" + (f"/{attribute}" if attribute else "")

    def sub_stand_in(match: re.Match[str]) -> str:
        stand_in = stand_ins.get(match.group(1))
        if stand_in and not match.group(2):
            function, attribute = stand_in["Fn::GetAtt"]
            return "${" + f"{function}.{attribute}" + "}"
        return placeholder(match.group(1), match.group(2))

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            if set(value) == {"Ref"} and value["Ref"] in stand_ins:
                return stand_ins[value["Ref"]]
            if set(value) == {"Ref"} and value["Ref"] in names:
                return placeholder(value["Ref"])
            if set(value) == {"Fn::GetAtt"}:
                target = value["Fn::GetAtt"]
                name, attribute = target if isinstance(target, list) else target.split(".", 1)
                if name in names:
                    return placeholder(name, attribute)
            if set(value) == {"Fn::Sub"}:
                body = value["Fn::Sub"]
                text = body[0] if isinstance(body, list) else body
                text = re.sub(
                    r"\$\{([A-Za-z0-9]+)(?:\.([A-Za-z0-9.]+))?\}",
                    lambda m: sub_stand_in(m) if m.group(1) in names else m.group(0),
                    text,
                )
                return {"Fn::Sub": [text, walk(body[1])] if isinstance(body, list) else text}
            return {key: walk(item) for key, item in value.items()}
        if isinstance(value, list):
            return [walk(item) for item in value]
        return value

    for key in ("Resources", "Outputs"):
        template[key] = walk(template.get(key, {}))
    for resource in template["Resources"].values():
        depends = resource.get("DependsOn")
        if isinstance(depends, str) and depends in names:
            del resource["DependsOn"]
        elif isinstance(depends, list):
            resource["DependsOn"] = [d for d in depends if d not in names]
    template["Outputs"] = {
        key: output for key, output in template.get("Outputs", {}).items() if "not-checked" not in json.dumps(output)
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sam", default=str(ROOT / ".venv-sam" / "bin" / "sam"))
    parser.add_argument("--python", help="python3.13 for sam build (default: pyenv's newest 3.13, else PATH)")
    args = parser.parse_args()
    import boto3
    from moto.server import ThreadedMotoServer

    OUT.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    total = time.perf_counter()
    py313 = Path(args.python).parent if args.python else python313_bin()
    if py313 is None:
        raise SystemExit("deploy-check: sam build needs python3.13 (e.g. `pyenv install 3.13`)")

    import logging

    from local_stack.stack import free_port

    # moto answers some describe calls with a 500 (see the report); keep its request log quiet.
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
    if os.environ.get("DEPLOY_CHECK_VERBOSE"):  # moto's own errors (a 500 from the emulator) with their traceback
        logging.basicConfig(level=logging.ERROR)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=bool(os.environ.get("DEPLOY_CHECK_VERBOSE")))
    server.start()
    # "localhost": moto's CloudFormation reads a TemplateURL from its own S3 only for that host name.
    endpoint = f"http://localhost:{port}"
    env = {
        **os.environ,
        "PATH": f"{py313}{os.pathsep}{os.environ.get('PATH', '')}",
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "deploy-check",
        "AWS_SECRET_ACCESS_KEY": "deploy-check",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "SAM_CLI_TELEMETRY": "0",
        # template.yaml's Fn::ForEach: samconfig.toml turns this on beside the template, not for build/deploy-check/.
        "SAM_CLI_ENABLE_LANGUAGE_EXTENSIONS": "1",
    }
    env.pop("AWS_PROFILE", None)
    env.pop("AWS_SESSION_TOKEN", None)
    fake = "deploy-check"  # moto accepts any credentials
    session = boto3.Session(aws_access_key_id=fake, aws_secret_access_key=fake, region_name=REGION)

    def client(name: str) -> Any:
        from botocore.config import Config

        retries = Config(retries={"max_attempts": 1})  # a 500 from moto is an emulator gap: no retry storms
        return session.client(name, endpoint_url=endpoint, config=retries)  # type: ignore[call-overload]

    try:
        sam = args.sam
        build_dir, cache_dir = OUT / "sam", OUT / "cache"
        timings["sam build"] = run(
            [sam, "build", "--build-dir", str(build_dir), "--cached", "--cache-dir", str(cache_dir), "--parallel"],
            env,
            OUT / "build.log",
        )
        client("s3").create_bucket(Bucket=BUCKET)
        packaged = OUT / "packaged.yaml"
        timings["sam package"] = run(
            [sam, "package", "--template-file", str(build_dir / "template.yaml"), "--s3-bucket", BUCKET,
             "--output-template-file", str(packaged), "--no-progressbar"],
            env,
            OUT / "package.log",
        )  # fmt: skip
        started = time.perf_counter()
        template = translate(packaged)
        full_template = json.loads(json.dumps(template))
        removed = {
            name: MOTO_CRASHES[resource["Type"]]
            for name, resource in template["Resources"].items()
            if resource["Type"] in MOTO_CRASHES
        }
        unsupported = moto_supported_types()
        removed |= {
            name: "moto's CloudFormation has no model for " + resource["Type"]
            for name, resource in template["Resources"].items()
            if resource["Type"] not in unsupported
        }
        stand_ins = alias_stand_ins(template, set(removed))
        removed |= crashes_on_removed(template, set(removed) - set(stand_ins))
        strip(template, set(removed), stand_ins)
        deployed_template = OUT / "template.cfn.json"
        deployed_template.write_text(json.dumps(template, indent=1))
        timings["translate"] = time.perf_counter() - started
        overrides = [f"{key}={value}" for key, value in PARAMETERS.items()]
        timings["sam deploy"] = run(
            [sam, "deploy", "--template-file", str(deployed_template), "--stack-name", STACK,
             "--s3-bucket", BUCKET, "--capabilities", "CAPABILITY_IAM", "--no-confirm-changeset",
             "--no-fail-on-empty-changeset", "--no-progressbar", "--parameter-overrides", *overrides],
            env,
            OUT / "deploy.log",
        )  # fmt: skip
        started = time.perf_counter()
        report = check(client, full_template, packaged, removed)
        timings["checks"] = time.perf_counter() - started
    finally:
        server.stop()
    timings["total"] = time.perf_counter() - total
    report["seconds"] = {name: round(value, 1) for name, value in timings.items()}
    (OUT / "report.json").write_text(json.dumps(report, indent=1, sort_keys=True))
    print(json.dumps({k: report[k] for k in ("stack_status", "failed", "seconds")}, indent=1))
    print(f"created by moto: {len(report['created'])} resources; not checked by moto ({len(report['not_checked'])}):")
    for kind, names in sorted(report["not_checked_by_type"].items()):
        print(f"  {kind}: {len(names)}")
    crashes: dict[str, list[str]] = {}
    for name, reason in report["removed_before_deploy"].items():
        if name not in report["not_checked"]:
            crashes.setdefault(f"{report['types'][name]}: {reason.split(': it refers to')[0]}", []).append(name)
    for reason, names in sorted(crashes.items()):
        print(f"  taken out, moto crashes on {len(names)} {reason} (e.g. {names[0]})")
    print(f"report: {OUT / 'report.json'}")
    return 1 if report["failed"] else 0


def check(client: Any, template: dict[str, Any], packaged: Path, removed: dict[str, str]) -> dict[str, Any]:
    """What moto deployed, against the template; the checks that fail the target."""
    cfn = client("cloudformation")
    stack = cfn.describe_stacks(StackName=STACK)["Stacks"][0]
    physical = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for page in cfn.get_paginator("list_stack_resources").paginate(StackName=STACK)
        for r in page["StackResourceSummaries"]
    }
    supported = moto_supported_types()
    resources = template["Resources"]
    not_checked = sorted(name for name, r in resources.items() if r["Type"] not in supported)
    by_type: dict[str, list[str]] = {}
    for name in not_checked:
        by_type.setdefault(resources[name]["Type"], []).append(name)
    failed: list[str] = []
    if stack["StackStatus"] not in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
        failed.append(f"stack status {stack['StackStatus']}")
    conditional = {name for name, r in resources.items() if "Condition" in r}
    missing = sorted(
        name
        for name, r in resources.items()
        if r["Type"] in supported and name not in physical and name not in conditional and name not in removed
    )
    if missing:
        failed.append(f"moto supports these types but did not create: {missing}")

    from botocore.exceptions import ClientError

    lam = client("lambda")
    functions_seen: dict[str, dict[str, str]] = {}
    not_describable: list[str] = []
    for name, resource in resources.items():
        if resource["Type"] != "AWS::Lambda::Function" or name not in physical:
            continue
        try:
            configuration = lam.get_function_configuration(FunctionName=physical[name])
        except ClientError:
            # moto keeps a !Ref to some resources (an event bus) as its model object and cannot answer.
            not_describable.append(name)
            continue
        functions_seen[name] = configuration.get("Environment", {}).get("Variables", {})
    for name, variables in functions_seen.items():
        leaked = [key for key in variables if key in SECRET_VALUE_VARIABLES]
        if leaked:
            failed.append(f"{name}: secret-looking variables in its environment: {leaked}")
    webhook = functions_seen.get("PaymentWebhookFunction")
    if webhook is not None and "STRIPE_WEBHOOK_SECRET_ARN" not in webhook:
        failed.append("PaymentWebhookFunction has no STRIPE_WEBHOOK_SECRET_ARN")

    sqs = client("sqs")
    for name, resource in resources.items():
        if resource["Type"] == "AWS::SQS::Queue" and name in physical:
            attributes = sqs.get_queue_attributes(QueueUrl=physical[name], AttributeNames=["MessageRetentionPeriod"])
            if attributes["Attributes"]["MessageRetentionPeriod"] != "1209600":
                failed.append(f"{name}: retention {attributes['Attributes']['MessageRetentionPeriod']} s, not 14 days")

    topic = client("sns").get_topic_attributes(TopicArn=physical["OpsAlertsTopic"])["Attributes"]
    # (moto's KMS cannot describe a key CloudFormation made: its policy is kept as a dict. The key
    # policy is checked on the template: tests/tooling/test_template.py.)
    if topic.get("KmsMasterKeyId") != physical["OpsAlertsKey"]:
        failed.append(f"OpsAlertsTopic is encrypted with {topic.get('KmsMasterKeyId')}, not the stack's key")

    layer_uri = _packaged_layer_uri(packaged)
    bucket, key_name = layer_uri.removeprefix("s3://").split("/", 1)
    layer_zip = client("s3").get_object(Bucket=bucket, Key=key_name)["Body"].read()
    names = zipfile.ZipFile(io.BytesIO(layer_zip)).namelist()
    if "python/orders/adapters/payments/certs/AppleRootCA-G3.cer" not in names:
        failed.append("the layer zip has no python/orders/adapters/payments/certs/AppleRootCA-G3.cer")

    return {
        "stack_status": stack["StackStatus"],
        "outputs": {o["OutputKey"]: o.get("OutputValue") for o in stack.get("Outputs", [])},
        "created": sorted(physical),
        "not_checked": not_checked,
        "not_checked_by_type": by_type,
        "removed_before_deploy": removed,
        "types": {name: resources[name]["Type"] for name in removed},
        "layer_zip_bytes": len(layer_zip),
        "functions_described": sorted(functions_seen),
        "functions_moto_cannot_describe": not_describable,
        "failed": failed,
    }


def _packaged_layer_uri(packaged: Path) -> str:
    from samtranslator.yaml_helper import yaml_parse

    template = yaml_parse(packaged.read_text())
    return str(template["Resources"]["SharedLayer"]["Properties"]["ContentUri"])


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
