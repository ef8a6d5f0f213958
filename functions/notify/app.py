"""notify: the OrdersTable stream → user notifications and downstream events; SES e-mail events.

Partial batch failure: each record is handled on its own; a record that fails is reported in
``batchItemFailures`` and the rest of the batch goes through (Lambda retries from the first
failed sequence number, bisects, and finally hands the record to the on-failure queue).
SNS deliveries (SES bounces and complaints of the stack's configuration set) disable that address.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from orders.logic.email_events import handle_sns_record
from orders.logic.notify import handle_stream_record
from orders.observability import logger, metrics, tracer

processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)


def record_handler(record: DynamoDBRecord) -> None:
    logger.remove_keys(["order_id", "change"])
    outcome = handle_stream_record(record.raw_event)
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
        outcomes = [handle_sns_record(record) for record in records]
        disabled = sum(len(outcome.suppressed) for outcome in outcomes)
        if disabled:
            metrics.add_metric(name="EmailAddressesDisabled", unit="Count", value=disabled)
        return {"disabled": disabled}
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    return dict(response)
