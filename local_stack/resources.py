"""Create every resource of template.yaml in a moto server, from the template itself.

Generic over the kinds the system uses: DynamoDB tables (indexes, streams, TTL), state
machines (``DefinitionUri`` file or inline ``Definition``, with ``DefinitionSubstitutions``),
SNS topics, SQS queues, S3 buckets, EventBridge buses and rules with their targets, Secrets Manager
secrets (with the LOCAL-ONLY values below), and the functions (registered in moto's Lambda so their
ARNs exist for Step Functions and rules).

Physical names are the logical ids (buckets: see :func:`bucket_name`). ``refs`` maps what CloudFormation would resolve:
``"OrdersTable"`` → its Ref value, ``"OrdersTable.Arn"`` → its GetAtt, pseudo parameters and
parameter defaults; :func:`local_stack.template.resolve` uses it for function environments.
"""

from __future__ import annotations

import io
import json
import logging
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local_stack.template import ROOT, create_tables, resolve, resources

log = logging.getLogger("local_stack.resources")

REGION = "us-east-1"
ACCOUNT = "123456789012"
STACK_NAME = "orders-local"
LAMBDA_ROLE = f"arn:aws:iam::{ACCOUNT}:role/local-stack-lambda"
# Catch-all rules put a copy of every bus event on one of these queues (see /_local/events).
TAP_PREFIX = "local-events-tap-"

STATE_MACHINE_KINDS = ("AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine")

# LOCAL ONLY, NOT SECRETS: the values the local stack and the tests put in moto's Secrets Manager,
# by secret (logical id). They are the fake Stripe's published test key and signing secret; a real
# stack's secrets are created empty and set with `make secrets` (docs/deploy.md). Secrets not named
# here stay empty locally, as on a fresh deploy (their routes answer 503).
# The template's SenderEmail is empty by default (no e-mail until it is set); locally, mail is sent from this.
LOCAL_SENDER = "notifications@orders.local"
LOCAL_SECRET_VALUES = {
    "StripeApiKeySecret": "sk_test_local_only_not_a_secret",
    "StripeWebhookSecret": "whsec_local_only_not_a_secret",
    # The fake carrier's signing secret (local_stack/fake_carrier.py signs with it).
    "CarrierSecrets": '{"fakecarrier": "carrier_local_only_not_a_secret"}',
}


def arn(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{resource}"


def base_refs(template: Mapping[str, Any]) -> dict[str, str]:
    """Pseudo parameters, parameter defaults, and a placeholder for every resource.

    Placeholders keep the environment of a function resolvable even where it names a
    resource the local stack does not emulate (a user pool, a log group).
    """
    refs: dict[str, str] = {name: name for name in template.get("Resources", {})}
    refs |= {f"{name}.Arn": arn("local", name) for name in template.get("Resources", {})}
    # AutoPublishAlias: `!Ref Fn.Alias` is the function's published alias; locally, the function itself.
    refs |= {f"{name}.Alias": arn("local", name) for name in template.get("Resources", {})}
    refs |= {name: str(param.get("Default", "")) for name, param in template.get("Parameters", {}).items()}
    refs |= {
        "AWS::StackName": STACK_NAME,
        "AWS::Region": REGION,
        "AWS::AccountId": ACCOUNT,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
    }
    return refs


@dataclass
class CreatedResources:
    """What :func:`create_resources` made: the refs, and a few lookups the stack needs."""

    refs: dict[str, str]
    tables: dict[str, str] = field(default_factory=dict)  # logical id → table name
    stream_arns: dict[str, str] = field(default_factory=dict)  # table logical id → stream ARN
    state_machines: dict[str, str] = field(default_factory=dict)  # logical id → ARN
    buses: dict[str, str] = field(default_factory=dict)  # bus name → tap queue URL
    functions: dict[str, str] = field(default_factory=dict)  # function name → logical id


def create_resources(
    session: Any, endpoint: str, template: Mapping[str, Any], secret_values: Mapping[str, str] = LOCAL_SECRET_VALUES
) -> CreatedResources:
    """Create the template's resources in the moto server at ``endpoint``; return their refs.

    ``secret_values``: the local-only value of each secret (by logical id) that has one; the others stay empty.
    """

    def client(service: str) -> Any:
        return session.client(service, endpoint_url=endpoint, region_name=REGION)

    created = CreatedResources(refs=base_refs(template))
    _create_tables(client("dynamodb"), template, created)
    create_secrets(client("secretsmanager"), template, created.refs, secret_values)
    _create_functions(client("iam"), client("lambda"), template, created)
    create_messaging(client, template, created)
    return created


def create_messaging(client: Any, template: Mapping[str, Any], created: CreatedResources) -> None:
    """Topics, queues, buses (each with its local tap), state machines, rules, and the SES sender.

    ``client(service)`` makes a boto3 client pointing at moto (a server, or the in-process mock).
    """
    refs = created.refs
    _create_topics(client("sns"), template, refs)
    _create_queues(client("sqs"), template, refs)
    _create_buckets(client("s3"), template, refs)
    _create_buses(client("events"), client("sqs"), template, created)
    _create_state_machines(client("stepfunctions"), template, created)
    _create_rules(client("events"), template, refs)
    sender = refs.get("SenderEmail")
    if sender:  # SES refuses to send from an unverified identity, locally as on AWS
        client("ses").verify_email_identity(EmailAddress=sender)


def create_secrets(
    secretsmanager: Any, template: Mapping[str, Any], refs: dict[str, str], values: Mapping[str, str]
) -> None:
    """Each AWS::SecretsManager::Secret, named by its logical id; a value only where ``values`` has one."""
    for logical_id in resources(template, "AWS::SecretsManager::Secret"):
        kwargs: dict[str, Any] = {"Name": logical_id, "Description": "local stack (moto)"}
        if logical_id in values:
            kwargs["SecretString"] = values[logical_id]
        refs[logical_id] = secretsmanager.create_secret(**kwargs)["ARN"]
        log.info("secret %s%s", logical_id, " (local-only value)" if logical_id in values else " (empty)")


def _create_tables(ddb: Any, template: Mapping[str, Any], created: CreatedResources) -> None:
    names = {name: name for name in resources(template, "AWS::DynamoDB::Table")}
    create_tables(ddb, template, names)
    for logical_id, name in names.items():
        table = ddb.describe_table(TableName=name)["Table"]
        created.tables[logical_id] = name
        created.refs[f"{logical_id}.Arn"] = table["TableArn"]
        if "LatestStreamArn" in table:
            created.refs[f"{logical_id}.StreamArn"] = table["LatestStreamArn"]
            created.stream_arns[logical_id] = table["LatestStreamArn"]
        log.info("table %s%s", name, " (stream)" if "LatestStreamArn" in table else "")


def _create_topics(sns: Any, template: Mapping[str, Any], refs: dict[str, str]) -> None:
    for logical_id, resource in resources(template, "AWS::SNS::Topic").items():
        props = resource.get("Properties", {})
        name = logical_id + (".fifo" if props.get("FifoTopic") else "")
        attributes = {"FifoTopic": "true"} if props.get("FifoTopic") else {}
        topic_arn = sns.create_topic(Name=name, Attributes=attributes)["TopicArn"]
        refs[logical_id] = topic_arn
        refs[f"{logical_id}.TopicArn"] = topic_arn
        refs[f"{logical_id}.TopicName"] = name
        log.info("topic %s", name)


def _create_queues(sqs: Any, template: Mapping[str, Any], refs: dict[str, str]) -> None:
    queues = resources(template, "AWS::SQS::Queue")
    # Queues without a redrive policy first: a dead-letter queue must exist before its users.
    for logical_id, resource in sorted(
        queues.items(), key=lambda item: "RedrivePolicy" in item[1].get("Properties", {})
    ):
        props = resource.get("Properties", {})
        name = logical_id + (".fifo" if props.get("FifoQueue") else "")
        attributes = {"FifoQueue": "true"} if props.get("FifoQueue") else {}
        for key in ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds"):
            if key in props:
                attributes[key] = str(props[key])
        if "RedrivePolicy" in props:
            attributes["RedrivePolicy"] = json.dumps(resolve(props["RedrivePolicy"], refs))
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        refs[logical_id] = url
        refs[f"{logical_id}.Arn"] = queue_arn
        refs[f"{logical_id}.QueueName"] = name
        refs[f"{logical_id}.QueueUrl"] = url
        log.info("queue %s", name)


def bucket_name(logical_id: str) -> str:
    """S3 names are lower case: the local name of a bucket is derived from its logical id."""
    return f"{STACK_NAME}-{logical_id.lower()}"


def _create_buckets(s3: Any, template: Mapping[str, Any], refs: dict[str, str]) -> None:
    for logical_id in resources(template, "AWS::S3::Bucket"):
        name = bucket_name(logical_id)
        s3.create_bucket(Bucket=name)
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        refs[logical_id] = name
        refs[f"{logical_id}.Arn"] = f"arn:aws:s3:::{name}"
        log.info("bucket %s", name)


def _placeholder_zip() -> bytes:
    # moto needs some code; the local stack never runs it (invocations go to the real handler).
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def lambda_handler(event, context):\n    return event\n")
    return buffer.getvalue()


def _create_functions(iam: Any, lam: Any, template: Mapping[str, Any], created: CreatedResources) -> None:
    functions = resources(template, "AWS::Serverless::Function")
    if not functions:
        return
    assume = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    iam.create_role(RoleName=LAMBDA_ROLE.rsplit("/", 1)[1], AssumeRolePolicyDocument=json.dumps(assume))
    code = _placeholder_zip()
    for logical_id, resource in functions.items():
        props = resource.get("Properties", {})
        response = lam.create_function(
            FunctionName=logical_id,
            Runtime="python3.13",
            Role=LAMBDA_ROLE,
            Handler=props.get("Handler", "app.lambda_handler"),
            Code={"ZipFile": code},
        )
        created.refs[f"{logical_id}.Arn"] = created.refs[f"{logical_id}.Alias"] = response["FunctionArn"]
        created.functions[logical_id] = logical_id


def _create_buses(events: Any, sqs: Any, template: Mapping[str, Any], created: CreatedResources) -> None:
    names = ["default"]
    for logical_id, resource in resources(template, "AWS::Events::EventBus").items():
        name = resource.get("Properties", {}).get("Name") or logical_id
        name = resolve(name, created.refs)
        if name != "default":
            bus_arn = events.create_event_bus(Name=name)["EventBusArn"]
        else:
            bus_arn = arn("events", "event-bus/default")
        created.refs[logical_id] = name
        created.refs[f"{logical_id}.Name"] = name
        created.refs[f"{logical_id}.Arn"] = bus_arn
        names.append(name)
        log.info("event bus %s", name)
    for name in dict.fromkeys(names):
        # The tap: a catch-all rule per bus, targeting a local-only queue. Needs nothing of the product.
        url = sqs.create_queue(QueueName=f"{TAP_PREFIX}{name}")["QueueUrl"]
        tap_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name=f"local-tap-{name}", EventBusName=name, EventPattern=json.dumps({"account": [ACCOUNT]}))
        events.put_targets(Rule=f"local-tap-{name}", EventBusName=name, Targets=[{"Id": "tap", "Arn": tap_arn}])
        created.buses[name] = url


def _definition(resource: Mapping[str, Any]) -> dict[str, Any]:
    props = resource.get("Properties", {})
    if "Definition" in props:
        return dict(props["Definition"])
    if "DefinitionString" in props:
        return json.loads(props["DefinitionString"])  # type: ignore[no-any-return]
    uri = props.get("DefinitionUri")
    if not isinstance(uri, str):
        raise ValueError("a state machine needs Definition, DefinitionString or a local DefinitionUri")
    path = ROOT / uri
    text = path.read_text()
    if path.suffix in (".yaml", ".yml"):
        import yaml

        return yaml.safe_load(text)  # type: ignore[no-any-return]
    return json.loads(text)  # type: ignore[no-any-return]


def _substitute(value: Any, substitutions: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        for name, replacement in substitutions.items():
            value = value.replace("${" + name + "}", replacement)
        return value
    if isinstance(value, dict):
        return {k: _substitute(v, substitutions) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, substitutions) for v in value]
    return value


def state_machine_definition(resource: Mapping[str, Any], refs: Mapping[str, str]) -> dict[str, Any]:
    """A state machine's definition with its DefinitionSubstitutions resolved against ``refs``."""
    props = resource.get("Properties", {})
    substitutions = {k: str(v) for k, v in resolve(props.get("DefinitionSubstitutions", {}), refs).items()}
    return _substitute(_definition(resource), substitutions)  # type: ignore[no-any-return]


def _create_state_machines(sfn: Any, template: Mapping[str, Any], created: CreatedResources) -> None:
    for kind in STATE_MACHINE_KINDS:
        for logical_id, resource in resources(template, kind).items():
            props = resource.get("Properties", {})
            definition = state_machine_definition(resource, created.refs)
            name = resolve(props.get("Name") or props.get("StateMachineName") or logical_id, created.refs)
            machine_arn = sfn.create_state_machine(
                name=name,
                definition=json.dumps(definition),
                roleArn=arn("iam", "role/local-stack-states").replace(f":{REGION}:", "::"),
                type=props.get("Type") or props.get("StateMachineType") or "STANDARD",
            )["stateMachineArn"]
            created.refs[logical_id] = machine_arn
            created.refs[f"{logical_id}.Arn"] = machine_arn
            created.refs[f"{logical_id}.Name"] = name
            created.state_machines[logical_id] = machine_arn
            log.info("state machine %s", name)


def _create_rules(events: Any, template: Mapping[str, Any], refs: dict[str, str]) -> None:
    for logical_id, resource in resources(template, "AWS::Events::Rule").items():
        props = resolve(resource.get("Properties", {}), refs)
        bus = props.get("EventBusName") or "default"
        if bus.startswith("arn:"):
            bus = bus.rsplit("/", 1)[1]
        name = props.get("Name") or logical_id
        kwargs: dict[str, Any] = {"Name": name, "EventBusName": bus, "State": props.get("State", "ENABLED")}
        if "EventPattern" in props:
            kwargs["EventPattern"] = json.dumps(props["EventPattern"])
        if "ScheduleExpression" in props:
            kwargs["ScheduleExpression"] = props["ScheduleExpression"]
        rule_arn = events.put_rule(**kwargs)["RuleArn"]
        targets = [
            {key: target[key] for key in ("Id", "Arn", "Input", "InputPath") if key in target}
            for target in props.get("Targets", [])
        ]
        if targets:
            events.put_targets(Rule=name, EventBusName=bus, Targets=targets)
        refs[logical_id] = name
        refs[f"{logical_id}.Arn"] = rule_arn
        log.info("rule %s on %s (%d targets)", name, bus, len(targets))


def load_seed(path: Path = ROOT / "local_stack" / "catalog.json") -> list[dict[str, Any]]:
    return json.loads(path.read_text())  # type: ignore[no-any-return]


def seed_catalog(ddb: Any, table: str, products: list[dict[str, Any]]) -> None:
    """Create the seed products (plain JSON) in the catalog table, with their category and keyword index items,
    the way POST /products does."""
    from orders.dal.catalog import CatalogRepository
    from orders.logic.search import index_entry
    from orders.models.catalog import Product

    repository = CatalogRepository(table, client=ddb)
    for data in products:
        product = Product.model_validate(data)
        repository.create(product, index_entry(product))
