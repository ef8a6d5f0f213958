"""notify: the OrdersTable stream → user notifications and downstream events; SES e-mail events.

Partial batch failure: each record is handled on its own; a record that fails is reported in
``batchItemFailures`` and the rest of the batch goes through (Lambda retries from the first
failed sequence number, bisects, and finally hands the record to the on-failure queue).
SNS deliveries (SES bounces and complaints of the stack's configuration set) disable that address.

The logic's ports (channels, bus, directory, outbox) are wired here, once per execution environment, on
the first stream record (:func:`ports`).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from orders.adapters.channels import SesEmailNotifier, SnsPushNotifier, SnsSmsNotifier
from orders.adapters.clients import cognito_client, events_client, ses_client, sns_client
from orders.adapters.contacts import CognitoDirectory
from orders.adapters.eventbus import EventBridgePublisher
from orders.cache import per_environment
from orders.config import get_config
from orders.dal.repos import outbox_repository, users_repository
from orders.logic.email_events import handle_sns_record
from orders.logic.notify import Ports, handle_stream_record
from orders.logic.ports import Notifier
from orders.models.notification import Channel
from orders.observability import logger, metrics, tracer

processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)


@per_environment
def ports() -> Ports:
    """What the notify logic sends through: SNS push and SMS, SES e-mail (with a sender), EventBridge, Cognito."""
    config = get_config()
    notifiers: dict[Channel, Notifier] = {
        Channel.PUSH: SnsPushNotifier(sns_client()),
        Channel.SMS: SnsSmsNotifier(sns_client()),
    }
    if config.sender_email:
        notifiers[Channel.EMAIL] = SesEmailNotifier(config.sender_email, ses_client(), config.ses_configuration_set)
    if not config.event_bus_name:
        raise RuntimeError("EVENT_BUS_NAME is not set in this function's environment")
    return Ports(
        outbox=outbox_repository(),
        users=users_repository(),
        notifiers=notifiers,
        bus=EventBridgePublisher(config.event_bus_name, events_client()),
        directory=CognitoDirectory(config.user_pool_id, cognito_client()) if config.user_pool_id else None,
    )


def record_handler(record: DynamoDBRecord) -> None:
    logger.remove_keys(["order_id", "change"])
    outcome = handle_stream_record(record.raw_event, ports())
    if outcome.change is None:
        return
    metrics.add_metric(name="NotificationsSent", unit="Count", value=len(outcome.sent))
    if outcome.duplicates:
        metrics.add_metric(name="NotificationsDeduplicated", unit="Count", value=outcome.duplicates)
    if outcome.failed:
        metrics.add_metric(name="NotificationsRefused", unit="Count", value=len(outcome.failed))
    logger.info(
        "change handled",
        extra={
            "event": outcome.change.event,
            "sent": [f"{d.channel.value}" for d in outcome.sent],
            "refused": outcome.failed,
            "duplicates": outcome.duplicates,
        },
    )


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    records = event.get("Records") or []
    if records and records[0].get("EventSource") == "aws:sns":
        # SNS retries the whole delivery on an exception; suppressing an address twice is harmless.
        outcomes = [handle_sns_record(record, users_repository()) for record in records]
        disabled = sum(len(outcome.suppressed) for outcome in outcomes)
        if disabled:
            metrics.add_metric(name="EmailAddressesDisabled", unit="Count", value=disabled)
        return {"disabled": disabled}
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    return dict(response)
