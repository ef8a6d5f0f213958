"""SES bounce → SNS → notify: the address is disabled for that user in OrdersTable."""

from __future__ import annotations

import json

from local_stack.runtime import LambdaRuntime


def test_an_sns_delivered_bounce_disables_the_users_address(runtime: LambdaRuntime) -> None:
    # Given SES published a permanent bounce of a mail sent to user-1 (tagged through the configuration set)
    bounce = {
        "eventType": "Bounce",
        "bounce": {"bounceType": "Permanent", "bouncedRecipients": [{"emailAddress": "ada@example.com"}]},
        "mail": {"messageId": "m-1", "tags": {"user_id": ["user-1"]}},
    }
    event = {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": json.dumps(bounce)}}]}
    # When SNS delivers it to notify
    answer = runtime.invoke("NotifyFunction", event)
    # Then the address is recorded as suppressed for that user, where notify reads contacts from
    runtime.activate("NotifyFunction")
    from orders.dal.repos import users_repository

    assert answer == {"disabled": 1}
    assert users_repository().contact_details("user-1")[2] == frozenset({"ada@example.com"})
