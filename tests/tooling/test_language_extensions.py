"""local_stack.language_extensions: Fn::ForEach expanded as CloudFormation's AWS::LanguageExtensions does."""

from __future__ import annotations

from typing import Any

import pytest

from local_stack.language_extensions import LanguageExtensionError, expand
from local_stack.template import ROOT, load_raw_template, load_template

TRANSFORMS = ["AWS::LanguageExtensions", "AWS::Serverless-2016-10-31"]


def _template(resources: dict[str, Any], mappings: dict[str, Any] | None = None) -> dict[str, Any]:
    template: dict[str, Any] = {"Transform": list(TRANSFORMS), "Resources": resources}
    if mappings is not None:
        template["Mappings"] = mappings
    return template


def test_a_loop_generates_one_entry_per_item_with_the_identifier_replaced() -> None:
    # Given a loop over two names, the identifier in the key, in a string, in a Sub and as a Ref
    template = _template(
        {
            "Fn::ForEach::Groups": [
                "Name",
                ["Catalog", "create-order"],
                {
                    "&{Name}LogGroup": {
                        "Type": "AWS::Logs::LogGroup",
                        "Properties": {
                            "LogGroupName": {"Fn::Sub": "/aws/lambda/${AWS::StackName}/${Name}"},
                            "Tags": [{"Key": "service", "Value": {"Ref": "Name"}}],
                            "Description": "${Name} logs",
                        },
                    }
                },
            ]
        }
    )
    # When it is expanded
    expanded = expand(template)
    # Then each item has its resource, named with non-alphanumerics dropped (&{}), values as-is (${}, Ref)
    assert set(expanded["Resources"]) == {"CatalogLogGroup", "createorderLogGroup"}
    props = expanded["Resources"]["createorderLogGroup"]["Properties"]
    assert props == {
        "LogGroupName": {"Fn::Sub": "/aws/lambda/${AWS::StackName}/create-order"},
        "Tags": [{"Key": "service", "Value": "create-order"}],
        "Description": "create-order logs",
    }
    # And the SAM transform is what is left to apply; the input is not changed
    assert expanded["Transform"] == "AWS::Serverless-2016-10-31"
    assert "Fn::ForEach::Groups" in template["Resources"]


def test_nested_loops_take_their_collection_and_values_from_the_mappings() -> None:
    # Given an outer loop over names and an inner one over the name's service (a one-item list in Mappings)
    mappings = {"Functions": {"Catalog": {"Service": ["catalog"], "Period": 60}, "Cart": {"Service": ["cart"]}}}
    body = {
        "${Name}Alarm": {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmDescription": "${Service} failed",
                "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": {"Fn::Sub": "${Name}Function"}}}],
                "Queue": {"Fn::GetAtt": [{"Fn::Sub": "${Name}Queue"}, "Arn"]},
                "Period": {"Fn::FindInMap": ["Functions", {"Ref": "Name"}, "Period"]},
            },
        }
    }
    inner = ["Service", {"Fn::FindInMap": ["Functions", {"Ref": "Name"}, "Service"]}, body]
    template = _template({"Fn::ForEach::Outer": ["Name", ["Catalog"], {"Fn::ForEach::Inner": inner}]}, mappings)
    # When it is expanded
    expanded = expand(template)
    # Then the values come from the mapping, and Ref / GetAtt name the generated resources plainly
    assert expanded["Resources"] == {
        "CatalogAlarm": {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmDescription": "catalog failed",
                "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": "CatalogFunction"}}],
                "Queue": {"Fn::GetAtt": ["CatalogQueue", "Arn"]},
                "Period": 60,
            },
        }
    }
    # And Mappings nothing refers to any more are gone (they deploy nothing)
    assert "Mappings" not in expanded


def test_a_lookup_keyed_by_a_parameter_is_left_to_cloudformation() -> None:
    lookup = {"Fn::FindInMap": ["Sizes", {"Ref": "Stage"}, "Memory"]}
    template = _template({"Fn": {"Type": "AWS::Serverless::Function", "Properties": {"MemorySize": lookup}}}, {})
    expanded = expand(template)
    assert expanded["Resources"]["Fn"]["Properties"]["MemorySize"] == lookup
    assert expanded["Mappings"] == {}


def test_a_loop_inside_a_resource_expands_there() -> None:
    events = {"Fn::ForEach::Jobs": ["Job", ["Expire", "Complete"], {"${Job}": {"Type": "Schedule"}}]}
    template = _template({"Fn": {"Type": "AWS::Serverless::Function", "Properties": {"Events": events}}})
    assert expand(template)["Resources"]["Fn"]["Properties"]["Events"] == {
        "Expire": {"Type": "Schedule"},
        "Complete": {"Type": "Schedule"},
    }


def test_a_template_without_the_transform_is_returned_as_it_is() -> None:
    template = {"Transform": "AWS::Serverless-2016-10-31", "Resources": {"A": {"Type": "AWS::SNS::Topic"}}}
    assert expand(template) == template


@pytest.mark.parametrize(
    ("resources", "message"),
    [
        ({"Fn::ForEach::L": ["N", ["A", "A"], {"${N}Topic": {"Type": "AWS::SNS::Topic"}}]}, "twice"),
        ({"Fn::ForEach::L": ["N", ["A"], {"${N}Topic": {}}], "ATopic": {"Type": "AWS::SNS::Topic"}}, "already"),
        ({"Fn::ForEach::L": ["N", {"Ref": "Names"}, {"${N}Topic": {}}]}, "list of strings"),
        ({"Fn::ForEach::L": ["N", ["A"]]}, "must be"),
        ({"Fn::ForEach::L": ["N", {"Fn::FindInMap": ["Missing", "A", "B"]}, {"${N}": {}}]}, "not in Mappings"),
    ],
)
def test_what_it_cannot_expand_exactly_is_refused(resources: dict[str, Any], message: str) -> None:
    with pytest.raises(LanguageExtensionError, match=message):
        expand(_template(resources, {}))


def test_the_template_loader_expands_template_yaml() -> None:
    # template.yaml as written generates its log groups and alarms; the loader hands out the expanded form
    raw = load_raw_template(ROOT / "template.yaml")
    assert "CatalogLogGroup" not in raw["Resources"]
    loops = [key for key in raw["Resources"] if key.startswith("Fn::ForEach::")]
    assert loops
    expanded = load_template(ROOT / "template.yaml")
    assert not [key for key in expanded["Resources"] if key.startswith("Fn::")]
    assert expanded["Resources"]["CatalogLogGroup"]["Type"] == "AWS::Logs::LogGroup"
    assert expanded["Resources"]["CatalogFunctionErrorsAlarm"]["Properties"]["Dimensions"] == [
        {"Name": "FunctionName", "Value": {"Ref": "CatalogFunction"}}
    ]
