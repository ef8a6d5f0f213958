"""The user pool as template.yaml deploys it: merchants' shop attribute, and the optional Apple / Google sign-in."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from local_stack.template import load_template, resources

TEMPLATE = load_template()
RES = TEMPLATE["Resources"]
PARAMS = TEMPLATE["Parameters"]
CONDITIONS = TEMPLATE["Conditions"]
PROVIDERS = {"AppleIdentityProvider": "HasAppleSignIn", "GoogleIdentityProvider": "HasGoogleSignIn"}


def _refs(node: Any) -> set[str]:
    """Every parameter or resource a condition or property refers to (Ref, and ${X} in Sub)."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::Sub" and isinstance(value, str):
                found |= set(re.findall(r"\$\{([A-Za-z0-9]+)\}", value))
            else:
                found |= _refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= _refs(value)
    return found


def test_merchants_carry_their_shop_as_a_custom_attribute_no_app_client_can_write() -> None:
    # Given the user pool's schema and every app client
    (attribute,) = [a for a in RES["UserPool"]["Properties"]["Schema"] if a["Name"] == "merchant_id"]
    clients = resources(TEMPLATE, "AWS::Cognito::UserPoolClient")
    # Then merchant_id is a string an administrator can change (AdminUpdateUserAttributes)...
    assert (attribute["AttributeDataType"], attribute["Mutable"]) == ("String", True)
    assert int(attribute["StringAttributeConstraints"]["MaxLength"]) == 40  # a merchant slug
    # ...and no client lists it as writable: a user cannot sign up as, or switch to, someone else's shop.
    assert set(clients) == {"UserPoolClient", "ConsoleUserPoolClient"}
    for name, client in clients.items():
        writable = client["Properties"]["WriteAttributes"]
        assert "email" in writable, name
        assert not [a for a in writable if a.startswith("custom:")], name


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_each_identity_provider_exists_only_when_all_its_settings_are_given(provider: str) -> None:
    resource = RES[provider]
    condition = PROVIDERS[provider]
    # Given the provider's resource and its condition
    assert resource["Condition"] == condition
    settings = {name for name in _refs(resource["Properties"]) if name in PARAMS}
    # Then the condition requires every parameter the provider uses to be non-empty (Fn::And of Not-Equals-"")
    required = {
        clause["Fn::Not"][0]["Fn::Equals"][0]["Ref"]
        for clause in CONDITIONS[condition]["Fn::And"]
        if clause["Fn::Not"][0]["Fn::Equals"][1] == ""
    }
    assert settings == required
    # And every parameter defaults to empty: a stack without them deploys no provider
    assert all(PARAMS[name]["Default"] == "" for name in settings)


@pytest.mark.parametrize(
    ("provider", "field"), [("AppleIdentityProvider", "private_key"), ("GoogleIdentityProvider", "client_secret")]
)
def test_the_key_and_the_client_secret_are_resolved_from_secrets_manager_never_typed_in(
    provider: str, field: str
) -> None:
    details = RES[provider]["Properties"]["ProviderDetails"]
    # The template only knows the secret's ARN; CloudFormation resolves the value at deploy time
    value = details[field]["Fn::Sub"]
    (parameter,) = re.findall(r"^\{\{resolve:secretsmanager:\$\{([A-Za-z]+SecretArn)\}:SecretString\}\}$", value)
    assert re.match(PARAMS[parameter]["AllowedPattern"], "arn:aws:secretsmanager:us-east-1:123456789012:secret:x-AbC")
    assert not re.match(PARAMS[parameter]["AllowedPattern"], "-----BEGIN PRIVATE KEY-----")
    # No other detail looks like a credential
    plain = json.dumps({k: v for k, v in details.items() if k != field})
    assert "BEGIN" not in plain and "resolve:secretsmanager" not in plain


def test_attribute_mapping_fills_the_email_and_names_and_never_the_shop() -> None:
    apple = RES["AppleIdentityProvider"]["Properties"]["AttributeMapping"]
    google = RES["GoogleIdentityProvider"]["Properties"]["AttributeMapping"]
    assert apple == {"email": "email", "given_name": "firstName", "family_name": "lastName"}
    assert google["email"] == "email" and google["name"] == "name"
    # Every mapped attribute is writable by the clients (Cognito writes it at each federated sign-in)
    for client in resources(TEMPLATE, "AWS::Cognito::UserPoolClient").values():
        assert set(apple) | set(google) <= set(client["Properties"]["WriteAttributes"])
    assert not [a for a in (*apple, *google) if a.startswith("custom:")]


def test_the_console_offers_each_provider_only_when_it_exists() -> None:
    supported = RES["ConsoleUserPoolClient"]["Properties"]["SupportedIdentityProviders"]
    assert supported[0] == "COGNITO"
    offered = {entry["Fn::If"][0]: entry["Fn::If"][1] for entry in supported[1:]}
    # The Ref of the provider (its name) also makes the client wait for it
    assert offered == {condition: {"Ref": provider} for provider, condition in PROVIDERS.items()}
    for entry in supported[1:]:
        assert entry["Fn::If"][2] == {"Ref": "AWS::NoValue"}
