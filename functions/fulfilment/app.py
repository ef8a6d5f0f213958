"""fulfilment: the OrdersTable stream, filtered to orders that became PAID.

Per record: grant virtual lines and move the order to COMPLETED, or to PENDING_SHIPMENT when it has
physical goods (orders.logic.fulfilment). A redelivered record finds the order moved on: success.
A record that raises is reported as a batch item failure (retried, bisected, then sent to the DLQ).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from orders.logic import fulfilment
from orders.observability import logger, metrics, tracer

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def record_handler(record: DynamoDBRecord) -> None:
    image = record.dynamodb.new_image if record.dynamodb else {}
    # The event source mapping filters on this too; checked again so any other record is a no-op.
    if image.get("type") != "ORDER" or image.get("status") != "PAID":
        return
    order_id = str(image["order_id"])
    logger.append_keys(order_id=order_id)
    fulfilment.on_paid(order_id)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(
        process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    )
