"""The messaging side of template.yaml on moto: queues, the event bus, its rules, the SES sender.

Locally a resource's physical name is its logical id (as for tables), so the bus the notify
function puts events on (EVENT_BUS_NAME = !Ref OrderEventsBus) is named "OrderEventsBus" and the
warehouse queue "WarehouseQueue". Returns logical id → queue URL for every queue.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from local_stack.template import resolve, resources


def create_messaging(template: Mapping[str, Any], refs: Mapping[str, str], session: Any) -> dict[str, str]:
    """Create the template's SQS queues, event buses and rules (SQS targets) and verify the SES sender.

    ``session``: a boto3 session (or the boto3 module) whose clients point at moto.
    """
    sqs = session.client("sqs")
    events = session.client("events")
    queues: dict[str, str] = {}
    arns: dict[str, str] = {}
    for logical_id in resources(template, "AWS::SQS::Queue"):
        url = sqs.create_queue(QueueName=logical_id)["QueueUrl"]
        queues[logical_id] = url
        arns[logical_id] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    for logical_id in resources(template, "AWS::Events::EventBus"):
        events.create_event_bus(Name=logical_id)
    for logical_id, rule in resources(template, "AWS::Events::Rule").items():
        props = rule["Properties"]
        bus = resolve(props.get("EventBusName", "default"), refs)
        events.put_rule(
            Name=logical_id, EventBusName=bus, EventPattern=json.dumps(props["EventPattern"]), State="ENABLED"
        )
        targets = []
        for target in props.get("Targets", []):
            queue_id = target["Arn"]["Fn::GetAtt"][0] if isinstance(target["Arn"], dict) else None
            if queue_id in arns:
                targets.append({"Id": target["Id"], "Arn": arns[queue_id]})
        if targets:
            events.put_targets(Rule=logical_id, EventBusName=bus, Targets=targets)
    sender = refs.get("SenderEmail")
    if sender:
        session.client("ses").verify_email_identity(EmailAddress=sender)
    return queues
