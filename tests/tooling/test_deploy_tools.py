"""tools/deploy_check.py and tools/smoke.py: the parts that decide what is deployed and checked."""

from __future__ import annotations

from typing import Any

from tools.deploy_check import alias_stand_ins, crashes_on_removed, strip
from tools.smoke import CognitoUsers


def test_strip_takes_resources_out_and_leaves_placeholders_where_they_were_used() -> None:
    # Given a template where a function refers to a pool moto cannot create, by Ref, GetAtt and Sub
    template: dict[str, Any] = {
        "Resources": {
            "Pool": {"Type": "AWS::Cognito::UserPool"},
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "DependsOn": ["Pool", "Table"],
                "Properties": {
                    "Environment": {"Variables": {"POOL": {"Ref": "Pool"}, "TABLE": {"Ref": "Table"}}},
                    "Role": {"Fn::GetAtt": ["Pool", "Arn"]},
                    "Description": {"Fn::Sub": "uses ${Pool.Arn} and ${Table}"},
                },
            },
            "Table": {"Type": "AWS::DynamoDB::Table"},
        },
        "Outputs": {"PoolId": {"Value": {"Ref": "Pool"}}, "TableName": {"Value": {"Ref": "Table"}}},
    }
    # When the pool is stripped
    strip(template, {"Pool"})
    # Then it is gone, what named it names a placeholder, and what did not stays as it was
    fn = template["Resources"]["Fn"]
    assert "Pool" not in template["Resources"]
    assert fn["DependsOn"] == ["Table"]
    assert fn["Properties"]["Environment"]["Variables"]["POOL"].endswith(":Pool")
    assert fn["Properties"]["Environment"]["Variables"]["TABLE"] == {"Ref": "Table"}
    assert fn["Properties"]["Role"].endswith(":Pool/Arn")
    assert fn["Properties"]["Description"]["Fn::Sub"].startswith("uses arn:aws:not-checked:")
    assert fn["Properties"]["Description"]["Fn::Sub"].endswith("and ${Table}")
    assert list(template["Outputs"]) == ["TableName"]


class FakeCognito:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        def call(**kwargs: Any) -> Any:
            self.calls.append((name, kwargs))
            return {"AuthenticationResult": {"IdToken": f"id-token-{len(self.calls)}"}}

        return call


def test_smoke_users_get_one_cognito_user_per_role_never_emailed_and_signed_in_server_side() -> None:
    cognito = FakeCognito()
    users = CognitoUsers(cognito, "pool-1", "client-1")
    first = users.token("agent-ab12", ("support",))
    assert users.token("agent-ab12", ("support",)) == first  # signed in once
    names = [name for name, _ in cognito.calls]
    assert names == ["admin_create_user", "admin_set_user_password", "admin_add_user_to_group", "admin_initiate_auth"]
    created = cognito.calls[0][1]
    assert created["MessageAction"] == "SUPPRESS"
    assert {"Name": "email_verified", "Value": "false"} in created["UserAttributes"]
    assert cognito.calls[2][1]["GroupName"] == "support"
    assert cognito.calls[3][1]["AuthFlow"] == "ADMIN_USER_PASSWORD_AUTH"


def test_make_secrets_finds_the_stacks_secrets_and_takes_values_from_the_environment_or_a_file(
    tmp_path: Any, monkeypatch: Any
) -> None:
    from tools.put_secrets import stack_secrets, value_for

    class Pages:
        def paginate(self, StackName: str) -> list[dict[str, Any]]:
            return [
                {
                    "StackResourceSummaries": [
                        {
                            "ResourceType": "AWS::SecretsManager::Secret",
                            "LogicalResourceId": "StripeApiKeySecret",
                            "PhysicalResourceId": "arn:secret:stripe",
                        },
                        {"ResourceType": "AWS::SQS::Queue", "LogicalResourceId": "Q", "PhysicalResourceId": "url"},
                    ]
                }
            ]

    class Cfn:
        def get_paginator(self, name: str) -> Pages:
            return Pages()

    assert stack_secrets(Cfn(), "orders-dev") == {"StripeApiKeySecret": "arn:secret:stripe"}
    key_file = tmp_path / "play.json"
    key_file.write_text('{"type": "service_account"}\n')
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_x")
    monkeypatch.setenv("GOOGLE_SERVICE_ACCOUNT_JSON_FILE", str(key_file))
    assert value_for("STRIPE_API_KEY", "", interactive=False) == "sk_test_x"
    assert value_for("GOOGLE_SERVICE_ACCOUNT_JSON", "", interactive=False) == '{"type": "service_account"}'
    assert value_for("APPLE_API_KEY", "", interactive=False) is None


def test_make_deploy_is_guided_for_an_environment_samconfig_does_not_know_yet() -> None:
    import subprocess

    from local_stack.template import ROOT

    def dry_run(*args: str) -> str:
        # make -n prints the recipe; the shell `if` inside it is what runs on a real deploy: evaluate it
        # with sam replaced by echo.
        recipe = subprocess.run(
            ["make", "-s", "-n", "deploy", *args, "SAM=echo sam"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout
        last = recipe[recipe.index("if [") :]
        return subprocess.run(["bash", "-c", last], cwd=ROOT, capture_output=True, text=True, check=True).stdout

    assert dry_run("ENV=qa").strip() == "sam deploy --guided --config-env qa"
    assert dry_run("ENV=dev").strip() == "sam deploy --config-env dev"
    assert dry_run("ENV=dev", "GUIDED=1").strip() == "sam deploy --guided --config-env dev"


def test_a_permission_on_a_removed_alias_is_taken_out_but_one_on_a_function_is_kept() -> None:
    # Given a permission on the alias moto has no model for, and one on the function itself
    template = {
        "Resources": {
            "OnAlias": {"Type": "AWS::Lambda::Permission", "Properties": {"FunctionName": {"Ref": "FnAliaslive"}}},
            "OnFunction": {"Type": "AWS::Lambda::Permission", "Properties": {"FunctionName": {"Ref": "Fn"}}},
        }
    }
    # When the resources moto would crash on are computed
    found = crashes_on_removed(template, {"FnAliaslive"})
    # Then only the permission on the alias is taken out, with its reason
    assert list(found) == ["OnAlias"]
    assert "FnAliaslive" in found["OnAlias"]


def test_a_stream_mapping_on_a_removed_alias_is_taken_out_too() -> None:
    # Given a stream mapping whose function is an alias moto has no model for
    template = {
        "Resources": {
            "Stream": {
                "Type": "AWS::Lambda::EventSourceMapping",
                "Properties": {"FunctionName": {"Ref": "FnAliaslive"}},
            }
        }
    }
    # When the resources moto would crash on are computed
    found = crashes_on_removed(template, {"FnAliaslive"})
    # Then the mapping is taken out (moto looks its FunctionName up and crashes on the placeholder)
    assert list(found) == ["Stream"]


def test_what_targets_a_removed_alias_is_pointed_at_its_function_and_kept() -> None:
    # Given an alias moto cannot create, a permission on it, and an API integration URI naming it in a Sub
    template: dict[str, Any] = {
        "Resources": {
            "FnAliaslive": {"Type": "AWS::Lambda::Alias", "Properties": {"FunctionName": {"Ref": "Fn"}}},
            "OnAlias": {"Type": "AWS::Lambda::Permission", "Properties": {"FunctionName": {"Ref": "FnAliaslive"}}},
            "Api": {
                "Type": "AWS::ApiGateway::RestApi",
                "Properties": {"Uri": {"Fn::Sub": "arn:x:${FnAliaslive}/invocations"}},
            },
        },
        "Outputs": {},
    }
    # When the alias is taken out with its stand-in
    stand_ins = alias_stand_ins(template, {"FnAliaslive"})
    crashes = crashes_on_removed(template, {"FnAliaslive"} - set(stand_ins))
    strip(template, {"FnAliaslive"}, stand_ins)
    # Then nothing else is taken out, and both references now name the function, which moto can check
    assert crashes == {}
    assert template["Resources"]["OnAlias"]["Properties"]["FunctionName"] == {"Fn::GetAtt": ["Fn", "Arn"]}
    assert template["Resources"]["Api"]["Properties"]["Uri"] == {"Fn::Sub": "arn:x:${Fn.Arn}/invocations"}


def test_a_stream_mapping_on_a_removed_alias_or_stream_is_taken_out_but_one_on_a_function_is_kept() -> None:
    # Given a stream mapping on a SnapStart alias moto has no model for, one on a stream taken out, and one on a
    # plain function
    template = {
        "Resources": {
            "OnAlias": {
                "Type": "AWS::Lambda::EventSourceMapping",
                "Properties": {
                    "FunctionName": {"Ref": "FnAliaslive"},
                    "EventSourceArn": {"Fn::GetAtt": ["T", "StreamArn"]},
                },
            },
            "OnFunction": {
                "Type": "AWS::Lambda::EventSourceMapping",
                "Properties": {"FunctionName": {"Ref": "Fn"}, "EventSourceArn": {"Fn::GetAtt": ["T", "StreamArn"]}},
            },
            "OnRemovedStream": {
                "Type": "AWS::Lambda::EventSourceMapping",
                "Properties": {"FunctionName": {"Ref": "Fn"}, "EventSourceArn": {"Fn::GetAtt": ["Gone", "StreamArn"]}},
            },
        }
    }
    # When the resources moto would crash on are computed
    found = crashes_on_removed(template, {"FnAliaslive", "Gone"})
    # Then moto's look-up of FunctionName and of EventSourceArn both count; the mapping on the function stays
    assert sorted(found) == ["OnAlias", "OnRemovedStream"]
    assert "FunctionName" in found["OnAlias"] and "EventSourceArn" in found["OnRemovedStream"]


def test_ci_runs_the_deploy_check_before_the_test_suite_which_closes_the_run() -> None:
    from local_stack.template import ROOT

    # Given the CI script's commands (comments left out)
    commands = [line.split("#")[0].strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    commands = [command for command in commands if command]
    # Then make deploy-check is one of them, and make test is the last
    assert "make deploy-check" in commands
    assert commands[-1] == "make test"
