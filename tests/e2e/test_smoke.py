"""`make smoke`'s flow against the local stack: Cognito test users (moto), then the demo steps over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import jwt
import pytest

from local_stack.auth import issue_token
from local_stack.stack import free_port
from local_stack.template import load_template, resources
from tests.e2e.conftest import RunningStack
from tools import smoke

TEMPLATE = load_template()


@pytest.fixture
def cognito() -> Iterator[Any]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield boto3.client(
            "cognito-idp",
            endpoint_url=f"http://127.0.0.1:{port}",
            region_name="us-east-1",
            aws_access_key_id="smoke",
            aws_secret_access_key="smoke",
        )
    finally:
        server.stop()


def test_smoke_creates_cognito_users_with_their_groups_and_drives_the_api(
    local_stack: RunningStack, cognito: Any
) -> None:
    # Given a user pool shaped like the template's: its app client's auth flows and its role groups
    client_props = TEMPLATE["Resources"]["UserPoolClient"]["Properties"]
    pool_id = cognito.create_user_pool(PoolName="orders-smoke")["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool_id, ClientName="app", ExplicitAuthFlows=client_props["ExplicitAuthFlows"]
    )["UserPoolClient"]["ClientId"]
    for group in resources(TEMPLATE, "AWS::Cognito::UserPoolGroup").values():
        cognito.create_group(UserPoolId=pool_id, GroupName=group["Properties"]["GroupName"])
    users = smoke.CognitoUsers(cognito, pool_id, client_id)
    seen: list[dict[str, Any]] = []

    def token(user: str, groups: tuple[str, ...]) -> str:
        # A real Cognito ID token for the test user; the local authorizer trusts dev tokens only, so the
        # API gets a dev token with the same sub and groups as the Cognito token (AWS verifies the real one).
        claims = jwt.decode(users.token(user, groups), options={"verify_signature": False})
        seen.append(claims)
        return issue_token(claims["sub"], claims.get("cognito:groups", []))

    # When the smoke flow runs against the local stack
    result = smoke.run(local_stack.url, users, token=token)

    # Then every demo step passed, each role signed in as its own Cognito user in its group
    assert result == 0
    assert {tuple(claims.get("cognito:groups", [])) for claims in seen} >= {(), ("ops",)}
    ops_user = next(name for key, name in users.created.items() if key.endswith("-ops"))
    groups = cognito.admin_list_groups_for_user(UserPoolId=pool_id, Username=ops_user)["Groups"]
    assert [group["GroupName"] for group in groups] == ["ops"]
    # And the test users are gone afterwards
    users.delete_all()
    assert cognito.list_users(UserPoolId=pool_id)["Users"] == []
