"""fulfilment: the OrdersTable stream, filtered to orders that are PAID or have money refunded.

Per record: a PAID order has its virtual lines granted and moves to COMPLETED, or to PENDING_SHIPMENT when
it has physical goods; an order with a refunded total above zero has the refund rule applied (grants
revoked, unshipped stock returned; orders.logic.fulfilment, docs/refunds.md). Every refund raises the
order's ``refunded_total``, whatever its source (the refund workflow, a refund made at the provider), so
this one consumer takes the goods back for all of them. Both steps read the order as it is now and are
idempotent: a redelivered or late record changes nothing. A record that raises is reported as a batch
item failure (retried, bisected, then sent to the DLQ).
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
    if image.get("type") != "ORDER":
        return
    order_id = str(image["order_id"])
    logger.append_keys(order_id=order_id)
    if image.get("status") == "PAID":
        fulfilment.on_paid(order_id)
    if int(image.get("refunded_total") or 0) > 0:
        fulfilment.on_refund(order_id)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(
        process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    )
