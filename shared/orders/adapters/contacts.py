"""Where notify finds the e-mail of a user who never set preferences: the Cognito user pool (``EmailDirectory``)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from orders.observability import logger


class CognitoDirectory:
    def __init__(self, user_pool_id: str, client: Any) -> None:
        self._pool = user_pool_id
        self._client = client

    def verified_email(self, user_id: str) -> str | None:
        """The user's verified e-mail (the pool uses e-mail sign-in: the user name is the ``sub``)."""
        try:
            response = self._client.admin_get_user(UserPoolId=self._pool, Username=user_id)
        except ClientError as exc:
            logger.info(
                "no directory entry for user", extra={"user_id": user_id, "error": exc.response["Error"]["Code"]}
            )
            return None
        attributes = {a["Name"]: a.get("Value") for a in response.get("UserAttributes", [])}
        if attributes.get("email") and attributes.get("email_verified") == "true":
            return str(attributes["email"])
        return None
