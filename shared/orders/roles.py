"""Staff roles (the Cognito groups of template.yaml) and the one read-authorization rule.

A caller's roles are its ``cognito:groups`` claim. Staff routes declare theirs with
``orders.http.requires_role(Role.OPS)``; reads of a user's own things (orders, timelines, refunds,
payments, tickets) go through :func:`may_read`: the owner, or staff in one of the reader roles.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Role(StrEnum):
    REVIEWER = "reviewer"
    SUPPORT = "support"
    OPS = "ops"
    ANALYST = "analyst"
    MERCHANT = "merchant"  # a shop's users: their own listings, orders and shipments (docs/merchants.md)


# Staff who may read any user's orders, timelines, refunds and payments.
STAFF_READERS: frozenset[Role] = frozenset({Role.REVIEWER, Role.SUPPORT, Role.OPS})


def may_read(owner_id: str, *, user_id: str, groups: Iterable[str], readers: frozenset[Role] = STAFF_READERS) -> bool:
    """The owner, or staff with a role among ``readers``; anyone else is told "not found" by the caller."""
    return owner_id == user_id or not readers.isdisjoint(groups)
