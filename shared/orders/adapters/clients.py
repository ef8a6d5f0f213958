"""boto3 clients of the messaging services, made on first use, once per execution environment."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from orders.cache import per_environment

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_ses import SESClient
    from mypy_boto3_sns import SNSClient


def _client(name: str) -> Any:
    import boto3

    return boto3.client(name)  # type: ignore[call-overload]


@per_environment
def sns_client() -> SNSClient:
    client: SNSClient = _client("sns")
    return client


@per_environment
def ses_client() -> SESClient:
    client: SESClient = _client("ses")
    return client


@per_environment
def events_client() -> EventBridgeClient:
    client: EventBridgeClient = _client("events")
    return client


@per_environment
def cognito_client() -> Any:
    return _client("cognito-idp")
