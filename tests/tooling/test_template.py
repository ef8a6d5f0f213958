"""template.yaml: valid for SAM and CloudFormation, and wired the way the code expects."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any, get_args

import pytest
import yaml
from pydantic import BaseModel

from local_stack.template import ROOT, function_specs, load_raw_template, load_template, resolve, resources

TEMPLATE = load_template()
FUNCTIONS = function_specs(TEMPLATE)
SAM = ROOT / ".venv-sam" / "bin" / "sam"


def test_every_function_handler_resolves_to_a_callable() -> None:
    assert FUNCTIONS
    for spec in FUNCTIONS.values():
        assert spec.module_path.is_file(), f"{spec.logical_id}: {spec.module_path} missing"
        assert callable(spec.load_handler()), spec.logical_id


def test_every_function_has_its_own_service_name_log_group_and_policy() -> None:
    names = set()
    for name, resource in resources(TEMPLATE, "AWS::Serverless::Function").items():
        props = resource["Properties"]
        service = props["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
        assert service not in names, f"{name} reuses service name {service}"
        names.add(service)
        log_group = TEMPLATE["Resources"][props["LoggingConfig"]["LogGroup"]["Ref"]]["Properties"]
        assert log_group["RetentionInDays"] == {"Ref": "LogRetentionDays"}
        # The generated log group carries the service name the function logs as (the Functions mapping).
        assert resolve(log_group["LogGroupName"], {"AWS::StackName": "stack"}) == f"/aws/lambda/stack/{service}", name
        assert props["Policies"], f"{name} has no policy"


def test_the_per_function_loop_lists_every_function_once_with_its_service_name() -> None:
    # template.yaml as written: one list of function names drives the log groups and alarms (docs/DEVELOPING.md)
    raw = load_raw_template()
    listed = raw["Resources"]["Fn::ForEach::PerFunction"][1]
    assert len(listed) == len(set(listed))
    functions = resources(TEMPLATE, "AWS::Serverless::Function")
    assert {f"{name}Function" for name in listed} == set(functions), "add the function to the PerFunction list"
    assert set(raw["Mappings"]["Functions"]) == set(listed), "add the function's row to the Functions mapping"
    for name in listed:
        service = functions[f"{name}Function"]["Properties"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
        assert raw["Mappings"]["Functions"][name]["Service"] == service, name


def statements() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for name, resource in resources(TEMPLATE, "AWS::Serverless::Function").items():
        for policy in resource["Properties"].get("Policies", []):
            assert isinstance(policy, dict) and "Statement" in policy, f"{name}: use inline statements"
            found += [(name, statement) for statement in policy["Statement"]]
    return found


# Each entry is a statement IAM cannot scope to an ARN, with the reason.
WILDCARD_RESOURCE_ALLOWED = {
    ("NotifyFunction", "sns:Publish"): "SMS goes to a phone number, which has no ARN",
}


def test_policies_name_exact_actions_on_exact_resources() -> None:
    for name, statement in statements():
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert all("*" not in action for action in actions), f"{name}: wildcard action {actions}"
        targets = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        if "*" in targets:
            assert [(name, action) in WILDCARD_RESOURCE_ALLOWED for action in actions] == [True] * len(actions), (
                f"{name}: wildcard resource for {actions}"
            )


def test_data_is_encrypted_and_recoverable() -> None:
    for name, table in resources(TEMPLATE, "AWS::DynamoDB::Table").items():
        props = table["Properties"]
        assert props["SSESpecification"]["SSEEnabled"] is True, name
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True, name
        assert props["BillingMode"] == "PAY_PER_REQUEST", name


def test_orders_table_streams_both_images_and_idempotency_records_expire() -> None:
    tables = resources(TEMPLATE, "AWS::DynamoDB::Table")
    assert tables["OrdersTable"]["Properties"]["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert tables["IdempotencyTable"]["Properties"]["TimeToLiveSpecification"] == {
        "AttributeName": "expiration",
        "Enabled": True,
    }


def test_api_uses_cognito_and_defines_every_role_group() -> None:
    api = resources(TEMPLATE, "AWS::Serverless::Api")["OrdersApi"]["Properties"]
    assert api["Auth"]["DefaultAuthorizer"] == "CognitoAuthorizer"
    groups = {g["Properties"]["GroupName"] for g in resources(TEMPLATE, "AWS::Cognito::UserPoolGroup").values()}
    from orders.http import ROLES

    # Exactly the roles the handlers know (merchant included: a merchant user's shop is a custom attribute).
    assert groups == set(ROLES) == {"reviewer", "support", "ops", "analyst", "merchant"}


def test_layer_is_built_for_the_runtime_of_the_functions() -> None:
    layer = next(iter(resources(TEMPLATE, "AWS::Serverless::LayerVersion").values()))
    runtime = TEMPLATE["Globals"]["Function"]["Runtime"]
    # Built by shared/Makefile from the lock, for the functions' runtime (tests/tooling/test_layer.py).
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    assert runtime in layer["Properties"]["CompatibleRuntimes"] == [runtime]
    assert (ROOT / layer["Properties"]["ContentUri"] / "requirements.lock").is_file()


def test_every_handler_route_has_exactly_one_api_event_on_its_function_and_back() -> None:
    # A route is written once, in its handler; the template gives it one Api event on that same function.
    everywhere: Counter[tuple[str, str]] = Counter()
    for spec in FUNCTIONS.values():
        handled = Counter((route.method, route.path) for route in spec.handler_routes())
        deployed = Counter((route.method, route.path) for route in spec.routes)
        everywhere.update(deployed)
        assert deployed == handled, (
            f"{spec.logical_id}: template events {sorted(deployed)} != handler routes {sorted(handled)}"
        )
    assert [key for key, count in everywhere.items() if count > 1] == []


def test_every_route_has_a_sample_event_for_its_function() -> None:
    by_route = {}
    for path in (ROOT / "events").glob("*.json"):
        event = json.loads(path.read_text())
        if "httpMethod" in event:
            by_route[(event["httpMethod"], event["resource"])] = event
    for spec in FUNCTIONS.values():
        for route in spec.routes:
            event = by_route.get((route.method, route.path))
            assert event is not None, f"no events/ file for {route.method} {route.path}"
            has_claims = "authorizer" in event["requestContext"]
            assert has_claims == route.authorized, f"{route.method} {route.path}: claims must match its auth"


def test_every_request_model_example_is_a_valid_request() -> None:
    # The sample events' bodies are these examples: each must pass the model it documents.
    checked = 0
    for spec in FUNCTIONS.values():
        for route in spec.handler_routes():
            for param in route.route.dependant.body_params:
                for model in (param.type_, *get_args(param.type_)):
                    is_model = isinstance(model, type) and issubclass(model, BaseModel)
                    extra = model.model_config.get("json_schema_extra") if is_model else None
                    for example in extra.get("examples", []) if isinstance(extra, dict) else []:
                        model.model_validate(example)
                        checked += 1
    assert checked >= 14


def test_committed_sample_events_are_what_make_events_writes(tmp_path: Path) -> None:
    # Fails when a route, a parameter's examples or a request model's examples changed without `make events`.
    result = _run(sys.executable, "tools/make_events.py", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    written = {path.name: json.loads(path.read_text()) for path in tmp_path.glob("*.json")}
    committed = {
        path.name: event
        for path in (ROOT / "events").glob("*.json")
        if "httpMethod" in (event := json.loads(path.read_text()))
    }
    assert written == committed


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1", "SAM_CLI_TELEMETRY": "0"}
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_sam_validate_lint_passes() -> None:
    sam = str(SAM) if SAM.exists() else shutil.which("sam")
    assert sam, "SAM CLI not found: run `make setup` (it installs it into .venv-sam)"
    result = _run(sam, "validate", "--lint", "--template", "template.yaml")
    assert result.returncode == 0, result.stdout + result.stderr


CFN_LINT = str(Path(sys.executable).parent / "cfn-lint")


def _lint_translated(template: Path, out: Path) -> subprocess.CompletedProcess[str]:
    result = _run(sys.executable, "tools/translate_template.py", str(template))
    assert result.returncode == 0, result.stderr
    out.write_text(result.stdout)
    return _run(CFN_LINT, str(template), str(out))


def test_template_and_its_translation_pass_cfn_lint(tmp_path: Path) -> None:
    lint = _lint_translated(ROOT / "template.yaml", tmp_path / "template.cfn.json")
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_the_lint_check_catches_a_broken_template(tmp_path: Path) -> None:
    # Given the template with an unknown runtime (sam validate lets this through)
    broken = tmp_path / "template.yaml"
    broken.write_text((ROOT / "template.yaml").read_text().replace("Runtime: python3.13", "Runtime: python2.9"))
    # Then the same check fails on it: the passing test above can fail
    assert _lint_translated(broken, tmp_path / "broken.cfn.json").returncode != 0


@pytest.mark.parametrize("resource", ["OrdersTable", "CatalogTable"])
def test_business_data_survives_stack_deletion(resource: str) -> None:
    assert TEMPLATE["Resources"][resource]["DeletionPolicy"] == "Retain"


def _alarms() -> dict[str, dict[str, Any]]:
    return {name: r["Properties"] for name, r in resources(TEMPLATE, "AWS::CloudWatch::Alarm").items()}


def _dimension_refs(alarm: dict[str, Any]) -> set[str]:
    refs = set()
    for dimension in alarm.get("Dimensions", []):
        value = dimension["Value"]
        if isinstance(value, dict):
            refs.add(value.get("Ref") or value.get("Fn::GetAtt", [""])[0])
    return refs


def test_every_alarm_notifies_the_ops_topic() -> None:
    for name, alarm in _alarms().items():
        assert alarm.get("AlarmActions") == [{"Ref": "OpsAlertsTopic"}], name


def test_every_function_has_its_errors_and_throttles_alarm() -> None:
    watched = {
        (metric, ref)
        for alarm in _alarms().values()
        if alarm.get("Namespace") == "AWS/Lambda"
        for metric in [alarm["MetricName"]]
        for ref in _dimension_refs(alarm)
    }
    for function in resources(TEMPLATE, "AWS::Serverless::Function"):
        assert ("Errors", function) in watched, f"{function} has no Errors alarm"
        assert ("Throttles", function) in watched, f"{function} has no Throttles alarm"


def test_every_queue_has_an_alarm() -> None:
    watched = {
        ref for alarm in _alarms().values() if alarm.get("Namespace") == "AWS/SQS" for ref in _dimension_refs(alarm)
    }
    assert set(resources(TEMPLATE, "AWS::SQS::Queue")) <= watched


def test_dead_letter_and_on_failure_queues_alarm_on_the_first_message() -> None:
    dead_letters = {
        name for name in resources(TEMPLATE, "AWS::SQS::Queue") if "Failure" in name or "DeadLetter" in name
    }
    assert dead_letters
    for name in dead_letters:
        alarms = [a for a in _alarms().values() if name in _dimension_refs(a)]
        assert any(a["MetricName"] == "ApproximateNumberOfMessagesVisible" and a["Threshold"] == 0 for a in alarms), (
            name
        )


def _suppressions(config: str, key: str) -> list[tuple[str, str]]:
    """(check id, its reason) of each suppression in a checker's configuration file."""
    text = (ROOT / config).read_text()
    checks = yaml.safe_load(text)[key]
    lines = text.splitlines()
    found = []
    for check in checks:
        (index,) = [i for i, line in enumerate(lines) if line.split("#")[0].strip() == f"- {check}"]
        same_line = lines[index].partition("#")[2].strip()
        line_above = lines[index - 1].strip().removeprefix("#").strip() if lines[index - 1].strip()[:1] == "#" else ""
        found.append((check, same_line or line_above))
    return found


@pytest.mark.parametrize(("config", "key"), [(".checkov.yaml", "skip-check"), (".cfnlintrc.yaml", "ignore_checks")])
def test_security_suppressions_are_kept_once_in_the_checker_config_with_a_reason(config: str, key: str) -> None:
    suppressions = _suppressions(config, key)
    assert suppressions
    assert len({check for check, _ in suppressions}) == len(suppressions), "a check suppressed twice"
    for check, reason in suppressions:
        assert len(reason) > 20, f"{config}: {check} has no reason"
    # None stays on a resource: a suppression is written once, in the checker's configuration
    for name, resource in TEMPLATE["Resources"].items():
        metadata = resource.get("Metadata") or {}
        assert not {"checkov", "cfn-lint", "cfn_nag"} & set(metadata), f"{name}: move the suppression to {config}"


def test_every_queue_but_a_dead_letter_queue_has_a_redrive_policy_and_all_are_encrypted() -> None:
    # What ES6000 (ignored in .cfnlintrc.yaml) checks, and what CKV_AWS_27 (skipped) does not see: SQS-managed SSE.
    everything = json.dumps(TEMPLATE["Resources"])
    for name, queue in resources(TEMPLATE, "AWS::SQS::Queue").items():
        props = queue["Properties"]
        assert props.get("SqsManagedSseEnabled") is True, name
        if "RedrivePolicy" not in props:
            # A dead-letter / on-failure queue: something sends its failures here.
            assert "DeadLetter" in name or "Failure" in name, f"{name}: a queue that is not a DLQ needs a redrive"
            assert json.dumps({"Fn::GetAtt": [name, "Arn"]}) in everything, f"{name}: nothing sends failures here"


def test_every_function_a_caller_does_not_wait_for_keeps_its_failures() -> None:
    # What CKV_AWS_116 (skipped in .checkov.yaml) asks for, per invocation type: synchronous callers (API, the
    # state machine) get the error; stream events and asynchronous sources need an on-failure destination.
    for name, function in resources(TEMPLATE, "AWS::Serverless::Function").items():
        props = function["Properties"]
        kinds = {event["Type"] for event in props.get("Events", {}).values()}
        for event_name, event in props.get("Events", {}).items():
            if event["Type"] in ("DynamoDB", "Kinesis", "SQS"):
                assert event["Properties"]["DestinationConfig"]["OnFailure"]["Destination"], f"{name}.{event_name}"
        if kinds & {"Schedule", "SNS", "EventBridgeRule", "S3"}:
            assert props["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]["Destination"], name


def test_the_reports_bucket_is_private_encrypted_versioned_and_tls_only() -> None:
    bucket = TEMPLATE["Resources"]["ReportsBucket"]["Properties"]
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["LifecycleConfiguration"]["Rules"]
    policy = TEMPLATE["Resources"]["ReportsBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert any(s["Effect"] == "Deny" and s["Condition"]["Bool"]["aws:SecureTransport"] == "false" for s in policy)


# --- deployable to a fresh account (issue 14) ---------------------------------------------------
def test_no_secret_is_a_parameter_and_no_rule_refuses_the_defaults() -> None:
    # Secrets live in Secrets Manager; nothing secret may be typed into a parameter or the template.
    for name, parameter in TEMPLATE["Parameters"].items():
        assert not parameter.get("NoEcho"), f"{name}: a NoEcho parameter is a secret in the wrong home"
        if name.endswith("SecretArn"):
            # Where a secret lives (an existing Secrets Manager secret, resolved at deploy time), never its value.
            assert parameter["AllowedPattern"].startswith("^$|^arn:aws[a-z-]*:secretsmanager:"), name
            continue
        assert not any(word in name.lower() for word in ("secret", "apikey", "password", "certificate")), name
    assert "Rules" not in TEMPLATE


def test_every_named_secret_is_created_empty_and_readable_only_by_its_functions() -> None:
    from orders.secrets import SECRETS

    created = resources(TEMPLATE, "AWS::SecretsManager::Secret")
    assert set(created) == {spec.resource for spec in SECRETS.values()}
    for name, secret in created.items():
        props = secret["Properties"]
        assert "SecretString" not in props and "GenerateSecretString" not in props, f"{name} must be created empty"
    readers: dict[str, set[str]] = {}
    for function, statement in statements():
        if "secretsmanager:GetSecretValue" in statement["Action"]:
            targets = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            for target in targets:
                readers.setdefault(target["Ref"], set()).add(function)
    for spec in SECRETS.values():
        env_name = spec.setting.upper()
        wired = {
            name
            for name, fn in resources(TEMPLATE, "AWS::Serverless::Function").items()
            if fn["Properties"]["Environment"]["Variables"].get(env_name) == {"Ref": spec.resource}
        }
        assert readers.get(spec.resource, set()) == wired, f"{spec.name}: readers {readers.get(spec.resource)}"
    # Paying and refunding, and cancelling a started PaymentIntent (cancel and the expiry job).
    assert readers["StripeApiKeySecret"] == {
        "PaymentsFunction",
        "RefundWorkerFunction",
        "OrdersFunction",
        "SchedulerFunction",
    }
    assert readers["GoogleServiceAccountSecret"] == {"PaymentWebhookFunction"}


def test_no_function_environment_carries_a_secret_value() -> None:
    for name, function in resources(TEMPLATE, "AWS::Serverless::Function").items():
        variables = function["Properties"]["Environment"]["Variables"]
        for key, value in variables.items():
            if "SECRET" in key or key.endswith("_API_KEY"):
                assert key.endswith("_SECRET_ARN") and "Ref" in value, f"{name}: {key} = {value}"


def test_the_api_gateway_cloudwatch_role_is_created_when_asked_and_the_api_waits_for_it() -> None:
    res = TEMPLATE["Resources"]
    assert TEMPLATE["Conditions"]["CreateApiGatewayAccount"] == {
        "Fn::Equals": [{"Ref": "CreateApiGatewayAccountRole"}, "true"]
    }
    assert res["ApiGatewayAccount"]["Condition"] == "CreateApiGatewayAccount"
    assert res["ApiGatewayAccount"]["Properties"]["CloudWatchRoleArn"] == {
        "Fn::GetAtt": ["ApiGatewayCloudWatchRole", "Arn"]
    }
    role = res["ApiGatewayCloudWatchRole"]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "apigateway.amazonaws.com"}
    assert "AmazonAPIGatewayPushToCloudWatchLogs" in json.dumps(role["ManagedPolicyArns"])
    # DependsOn may not name a resource whose condition is false: the API waits on a handle that refers to it.
    assert res["OrdersApi"]["DependsOn"] == "ApiGatewayAccountReady"
    assert "ApiGatewayAccount" in json.dumps(res["ApiGatewayAccountReady"]["Metadata"])


def test_the_ops_topic_uses_a_key_cloudwatch_may_use_and_can_mail_an_alert_address() -> None:
    res = TEMPLATE["Resources"]
    assert res["OpsAlertsTopic"]["Properties"]["KmsMasterKeyId"] == {"Ref": "OpsAlertsKey"}
    key = res["OpsAlertsKey"]["Properties"]
    assert key["EnableKeyRotation"] is True
    cloudwatch = [s for s in key["KeyPolicy"]["Statement"] if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}]
    assert cloudwatch and {"kms:Decrypt", "kms:GenerateDataKey*"} <= set(cloudwatch[0]["Action"])
    subscription = res["OpsAlertsEmailSubscription"]
    assert subscription["Condition"] == "HasAlertEmail"
    assert subscription["Properties"] == {
        "TopicArn": {"Ref": "OpsAlertsTopic"},
        "Protocol": "email",
        "Endpoint": {"Ref": "AlertEmail"},
    }


def test_email_goes_through_a_configuration_set_whose_bounces_and_complaints_reach_notify() -> None:
    res = TEMPLATE["Resources"]
    identity = res["SenderIdentity"]
    assert identity["Condition"] == "HasSender"
    assert identity["Properties"]["ConfigurationSetAttributes"] == {
        "ConfigurationSetName": {"Ref": "EmailConfigurationSet"}
    }
    destination = res["EmailEventDestination"]["Properties"]["EventDestination"]
    assert set(destination["MatchingEventTypes"]) == {"bounce", "complaint"}
    assert destination["SnsDestination"] == {"TopicARN": {"Ref": "EmailEventsTopic"}}
    notify = res["NotifyFunction"]["Properties"]
    assert notify["Events"]["EmailEvents"] == {"Type": "SNS", "Properties": {"Topic": {"Ref": "EmailEventsTopic"}}}
    assert notify["Environment"]["Variables"]["SES_CONFIGURATION_SET"] == {"Ref": "EmailConfigurationSet"}
    # SES may publish to the encrypted topic
    ses = [
        s
        for s in res["OpsAlertsKey"]["Properties"]["KeyPolicy"]["Statement"]
        if s["Principal"] == {"Service": "ses.amazonaws.com"}
    ]
    assert ses and res["EmailEventsTopic"]["Properties"]["KmsMasterKeyId"] == {"Ref": "OpsAlertsKey"}
    # No made-up sender: e-mail is off until a real one is given
    assert TEMPLATE["Parameters"]["SenderEmail"]["Default"] == ""


def test_every_queue_keeps_messages_14_days() -> None:
    for name, queue in resources(TEMPLATE, "AWS::SQS::Queue").items():
        assert queue["Properties"].get("MessageRetentionPeriod") == 1209600, name


def test_apple_root_certificates_ship_in_the_layer_not_in_the_environment() -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    from orders.config import Config, shipped_apple_roots

    for function in resources(TEMPLATE, "AWS::Serverless::Function").values():
        assert "APPLE_ROOT_CERTIFICATES" not in function["Properties"]["Environment"]["Variables"]
    roots = shipped_apple_roots()
    assert Config().apple_root_certificates == roots
    # Apple Root CA - G3, as Apple publishes it (SHA-256 fingerprint from apple.com/certificateauthority)
    certificate = x509.load_der_x509_certificate(Path(roots[0]).read_bytes())
    assert certificate.fingerprint(hashes.SHA256()).hex() == (
        "63343abfb89a6a03ebb57e9b3f5fa7be7c4f5c756f3017b3a8c488c3653e9179"
    )
    assert Path(roots[0]).is_relative_to(ROOT / "shared")  # the layer's ContentUri


def test_the_dashboard_shows_errors_and_throttles_of_every_function() -> None:
    # Given every function of the template and the ops dashboard's body
    functions = set(resources(TEMPLATE, "AWS::Serverless::Function"))
    body = TEMPLATE["Resources"]["OpsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    # Then each function has its Errors and its Throttles line (a function added without them is unwatched)
    for metric in ("Errors", "Throttles"):
        missing = {f for f in functions if f'["AWS/Lambda","{metric}","FunctionName","${{{f}}}"]' not in body}
        assert missing == set(), (metric, sorted(missing))


def test_every_provider_secret_is_in_the_output_make_secrets_reads() -> None:
    # Given the secrets the stack creates empty and the SecretArns output
    secrets = set(resources(TEMPLATE, "AWS::SecretsManager::Secret"))
    listed = {ref["Ref"] for ref in TEMPLATE["Outputs"]["SecretArns"]["Value"]["Fn::Join"][1]}
    # Then an operator told to fill them finds every one
    assert listed == secrets
