"""User channels behind one port (``Notifier``, orders.logic.ports): e-mail (SES), SMS (SNS), push (SNS endpoints).

``send`` returns the provider's message id. It raises :class:`PermanentDeliveryError` when the
provider refuses the address itself (disabled endpoint, bad token, invalid number, malformed
address): sending again would not help, so notify records the failure and goes on. Any other
exception is transient (throttling, timeouts, 5xx) and makes the stream record be retried.

SES's ``MessageRejected`` is NOT permanent: it says the account or sender is not allowed to send
(sandbox: unverified recipient; sender identity not verified yet; sending paused), which an
operator fixes. It raises :class:`SendingNotAllowed` (transient): the record is retried, then lands
in the on-failure queue, whose alarm makes it visible, instead of being marked failed for good.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from orders.logic.ports import EMAIL_USER_TAG, PermanentDeliveryError
from orders.models.notification import Channel, Message

if TYPE_CHECKING:
    from mypy_boto3_ses import SESClient
    from mypy_boto3_sns import SNSClient


_SNS_PERMANENT = frozenset({"EndpointDisabled", "InvalidParameter", "InvalidParameterValue", "NotFound"})
_SES_PERMANENT = frozenset({"InvalidParameterValue"})
# The account or the sender may not send yet: an operator's fix, then the retry goes through.
_SES_NOT_ALLOWED = frozenset({"MessageRejected", "MailFromDomainNotVerified", "ConfigurationSetDoesNotExist"})


class SendingNotAllowed(Exception):
    """Transient: SES refused to send for this account or sender (sandbox, unverified identity)."""


def _permanent_or_raise(exc: ClientError, permanent: frozenset[str]) -> PermanentDeliveryError:
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    if code in permanent:
        return PermanentDeliveryError(code, str(error.get("Message", "")))
    raise exc


class SesEmailNotifier:
    channel = Channel.EMAIL

    def __init__(self, sender: str, client: SESClient, configuration_set: str | None = None) -> None:
        self._sender = sender
        self._client = client
        self._configuration_set = configuration_set

    def send(self, to: str, message: Message, *, user_id: str | None = None) -> str:
        extra: dict[str, Any] = {}
        if self._configuration_set:
            # Bounces and complaints come back through the set's event destination, tagged with the user.
            extra["ConfigurationSetName"] = self._configuration_set
            if user_id:
                extra["Tags"] = [{"Name": EMAIL_USER_TAG, "Value": ses_tag_value(user_id)}]
        try:
            response = self._client.send_email(
                Source=self._sender,
                Destination={"ToAddresses": [to]},
                Message={
                    "Subject": {"Data": message.subject, "Charset": "UTF-8"},
                    "Body": {"Text": {"Data": message.body, "Charset": "UTF-8"}},
                },
                **extra,
            )
        except ClientError as exc:
            error = exc.response.get("Error", {})
            if error.get("Code") in _SES_NOT_ALLOWED:
                raise SendingNotAllowed(
                    f"SES refused to send from {self._sender} ({error.get('Code')}: {error.get('Message', '')}); "
                    "sandbox or unverified identity? see docs/deploy.md"
                ) from exc
            raise _permanent_or_raise(exc, _SES_PERMANENT) from exc
        return response["MessageId"]


def ses_tag_value(user_id: str) -> str:
    """SES tag values allow letters, digits, ``_`` and ``-`` only (Cognito subs are UUIDs: unchanged)."""
    return "".join(c if c.isascii() and (c.isalnum() or c in "_-") else "_" for c in user_id)[:256]


class SnsSmsNotifier:
    channel = Channel.SMS

    def __init__(self, client: SNSClient) -> None:
        self._client = client

    def send(self, to: str, message: Message, *, user_id: str | None = None) -> str:
        try:
            response = self._client.publish(
                PhoneNumber=to,
                Message=message.short,
                MessageAttributes={
                    "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
                },
            )
        except ClientError as exc:
            raise _permanent_or_raise(exc, _SNS_PERMANENT) from exc
        return response["MessageId"]


def push_payload(message: Message) -> str:
    """SNS's per-platform JSON message: APNs and FCM (GCM) payloads with title and text."""
    apns = {"aps": {"alert": {"title": message.subject, "body": message.short}, "sound": "default"}}
    fcm = {"notification": {"title": message.subject, "body": message.short}}
    return json.dumps(
        {
            "default": message.short,
            "APNS": json.dumps(apns, ensure_ascii=False),
            "APNS_SANDBOX": json.dumps(apns, ensure_ascii=False),
            "GCM": json.dumps(fcm, ensure_ascii=False),
        },
        ensure_ascii=False,
    )


class SnsPushNotifier:
    """``to`` is the device's SNS platform endpoint ARN."""

    channel = Channel.PUSH

    def __init__(self, client: SNSClient) -> None:
        self._client = client

    def send(self, to: str, message: Message, *, user_id: str | None = None) -> str:
        try:
            response = self._client.publish(TargetArn=to, Message=push_payload(message), MessageStructure="json")
        except ClientError as exc:
            raise _permanent_or_raise(exc, _SNS_PERMANENT) from exc
        return response["MessageId"]


class PushRegistry:
    """Turns a device token into an SNS platform endpoint of the platform's application."""

    def __init__(self, client: SNSClient) -> None:
        self._client = client

    def register(self, application_arn: str, token: str, user_id: str) -> str:
        try:
            response = self._client.create_platform_endpoint(
                PlatformApplicationArn=application_arn, Token=token, CustomUserData=user_id
            )
            arn = response["EndpointArn"]
        except ClientError as exc:
            error = exc.response.get("Error", {})
            existing = _existing_endpoint(str(error.get("Message", "")))
            if error.get("Code") not in ("InvalidParameter", "InvalidParameterValue"):
                raise
            if existing is None:
                raise PermanentDeliveryError(str(error.get("Code")), str(error.get("Message", ""))) from exc
            arn = existing  # the token was registered before (maybe by another user): take it over
        # A re-registered token is live again, whoever had it before.
        self._client.set_endpoint_attributes(
            EndpointArn=arn, Attributes={"Enabled": "true", "CustomUserData": user_id, "Token": token}
        )
        return arn


def _existing_endpoint(message: str) -> str | None:
    # SNS: "Invalid parameter: Token Reason: Endpoint <arn> already exists with the same Token, ..."
    marker = "Endpoint "
    if "already exists" not in message or marker not in message:
        return None
    return message.split(marker, 1)[1].split(" ", 1)[0] or None
