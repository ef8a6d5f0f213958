"""How an order id travels through the app stores.

Apple's ``appAccountToken`` must be a UUID; our order ids are ``ord_<32 hex>``, i.e. a UUID
in hex, so the token is that UUID and the mapping is exact both ways. Google's
``obfuscatedExternalAccountId`` carries the same token.
"""

from __future__ import annotations

import re
import uuid

_ORDER_ID = re.compile(r"^ord_([0-9a-f]{32})$")


def account_token(order_id: str) -> str | None:
    match = _ORDER_ID.match(order_id)
    return str(uuid.UUID(hex=match.group(1))) if match else None


def order_id_from_token(token: str | None) -> str | None:
    if not token:
        return None
    if _ORDER_ID.match(token):
        return token
    try:
        return f"ord_{uuid.UUID(token).hex}"
    except ValueError:
        return None
