"""One Role enum (the Cognito groups) and one read rule: the owner, or staff in a reader role."""

from __future__ import annotations

import pytest

from local_stack.template import load_template
from orders.http import required_roles, requires_role
from orders.roles import STAFF_READERS, Role, may_read


def test_the_roles_are_the_user_pools_groups() -> None:
    # Given the template's Cognito groups
    resources = load_template()["Resources"].values()
    groups = {r["Properties"]["GroupName"] for r in resources if r["Type"] == "AWS::Cognito::UserPoolGroup"}
    # Then Role names exactly those
    assert groups == {str(role) for role in Role}


@pytest.mark.parametrize(
    ("owner", "caller", "groups", "readable"),
    [
        ("u1", "u1", [], True),  # the owner
        ("u1", "u2", [], False),  # another user
        ("u1", "u2", ["analyst"], False),  # staff, but not a reader
        ("u1", "u2", ["support"], True),
        ("u1", "u2", ["ops"], True),
        ("u1", "u2", ["reviewer"], True),
    ],
)
def test_the_owner_or_a_staff_reader_may_read(owner: str, caller: str, groups: list[str], readable: bool) -> None:
    assert may_read(owner, user_id=caller, groups=frozenset(groups)) is readable


def test_a_narrower_reader_set_is_honoured() -> None:
    assert not may_read("u1", user_id="u2", groups={"ops"}, readers=frozenset({Role.SUPPORT}))
    assert {Role.REVIEWER, Role.SUPPORT, Role.OPS} == STAFF_READERS


def test_requires_role_takes_members_or_their_strings_and_refuses_unknown_ones() -> None:
    # Given routes marked with a member and with its string
    def by_member() -> None: ...
    def by_string() -> None: ...

    requires_role(Role.OPS, Role.SUPPORT)(by_member)
    requires_role("support", "ops")(by_string)
    # Then both require the same roles, as members
    assert required_roles(by_member) == required_roles(by_string) == (Role.OPS, Role.SUPPORT)
    assert all(isinstance(role, Role) for role in required_roles(by_string))
    with pytest.raises(ValueError, match="unknown roles"):
        requires_role("admin")
