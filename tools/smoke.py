"""`make smoke URL=... [STACK=...]`: after a deploy, test users in the stack's Cognito pool, then the demo.

1. Reads the user pool and app client from the stack's outputs (``UserPoolId``, ``UserPoolClientId``).
2. Creates one test user per demo role (``smoke-<role>-<run>@example.invalid``, not e-mail-verified, so
   nothing is ever mailed to it), sets a random permanent password, adds the role's group, and signs in
   server-side (``AdminInitiateAuth``, ADMIN_USER_PASSWORD_AUTH) for a real Cognito ID token.
3. Seeds the demo's products through the API as the ops user when the catalog lacks them.
4. Runs the demo steps that need nothing local (no fake payment provider, no ``/_local`` routes):
   browse, category, search, login, order, my orders, timeline, cancel, cart, checkout.
5. Deletes the test users (``--keep-users`` keeps them).

Needs AWS credentials allowed to administer the pool (cognito-idp:Admin*) and read the stack.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# The demo steps that work against any deployment (the others use the local stack's fake provider and /_local).
SMOKE_STEPS = ("browse", "category", "search", "login", "order", "my orders", "timeline", "cancel", "cart", "checkout")


@dataclass
class CognitoUsers:
    """Test users in a user pool, created on first use; ``token`` is the demo's token callable."""

    cognito: Any
    pool_id: str
    client_id: str
    created: dict[str, str] = field(default_factory=dict)  # demo user → username
    _tokens: dict[str, str] = field(default_factory=dict)

    def username(self, user: str) -> str:
        return f"smoke-{user}@example.invalid"

    def ensure(self, user: str, groups: tuple[str, ...]) -> str:
        """Create the user (once) with a random permanent password and its groups; return the password."""
        username = self.username(user)
        password = "Sm0ke-" + secrets.token_urlsafe(18)
        self.cognito.admin_create_user(
            UserPoolId=self.pool_id,
            Username=username,
            MessageAction="SUPPRESS",
            UserAttributes=[{"Name": "email", "Value": username}, {"Name": "email_verified", "Value": "false"}],
        )
        self.cognito.admin_set_user_password(
            UserPoolId=self.pool_id, Username=username, Password=password, Permanent=True
        )
        for group in groups:
            self.cognito.admin_add_user_to_group(UserPoolId=self.pool_id, Username=username, GroupName=group)
        self.created[user] = username
        return password

    def token(self, user: str, groups: tuple[str, ...]) -> str:
        """A Cognito ID token for the demo user (created with ``groups`` on first use)."""
        key = "-".join([user, *sorted(groups)])  # one Cognito user per demo user and role set
        if key not in self._tokens:
            password = self.ensure(key, groups)
            answer = self.cognito.admin_initiate_auth(
                UserPoolId=self.pool_id,
                ClientId=self.client_id,
                AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": self.created[key], "PASSWORD": password},
            )
            self._tokens[key] = answer["AuthenticationResult"]["IdToken"]
        return self._tokens[key]

    def delete_all(self) -> None:
        for username in self.created.values():
            self.cognito.admin_delete_user(UserPoolId=self.pool_id, Username=username)
        self.created.clear()


def stack_outputs(cloudformation: Any, stack: str) -> dict[str, str]:
    described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    return {output["OutputKey"]: output["OutputValue"] for output in described.get("Outputs", [])}


def seed_products(call: Callable[..., Any]) -> int:
    """The demo's products, created through the API as ops where missing (409: already there)."""
    created = 0
    for product in json.loads((ROOT / "local_stack" / "catalog.json").read_text()):
        status = call("POST", "/products", json=product)
        created += status == 201
    return created


def run(url: str, users: CognitoUsers, *, token: Callable[[str, tuple[str, ...]], str] | None = None) -> int:
    """The smoke flow against ``url``; ``token`` defaults to ``users.token`` (real Cognito ID tokens)."""
    from local_stack.demo import STEPS, Demo, run_demo

    demo = Demo(url.rstrip("/"))
    demo.token = token or users.token

    def ops_call(method: str, path: str, **kwargs: Any) -> int:
        headers = {"Authorization": f"Bearer {demo.token(demo.user('smoke-ops'), ('ops',))}"}
        response = demo.http.request(method, demo.url + path, headers=headers, timeout=30, **kwargs)
        if response.status_code not in (201, 409):
            raise SystemExit(f"smoke: seeding {path} answered {response.status_code}: {response.text[:300]}")
        return int(response.status_code)

    print(f"smoke: {seed_products(ops_call)} product(s) seeded")
    steps = [(name, step) for name, step in STEPS if name in SMOKE_STEPS]
    return run_demo(demo.url, steps, demo)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True, help="the API URL (stack output ApiUrl)")
    parser.add_argument("--stack", required=True, help="the stack name (its outputs name the user pool)")
    parser.add_argument("--keep-users", action="store_true")
    args = parser.parse_args(argv)
    import boto3

    outputs = stack_outputs(boto3.client("cloudformation"), args.stack)
    users = CognitoUsers(boto3.client("cognito-idp"), outputs["UserPoolId"], outputs["UserPoolClientId"])
    try:
        return run(args.url, users)
    finally:
        if not args.keep_users:
            users.delete_all()


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
