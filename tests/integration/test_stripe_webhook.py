"""POST /webhooks/stripe through the real handler: authenticity, effects, exactly-once."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest

from local_stack.fake_refunds import substituted
from local_stack.runtime import LambdaRuntime
from tests.conftest import FAKE_AWS_ENV
from tests.integration.conftest import REFS, Api, put_secret
from tests.integration.payments_support import (
    STRIPE_OLD_SECRET,
    STRIPE_SECRET,
    USER,
    create_order,
    get_order,
    ledger,
    post_stripe,
    stripe_dispute_event,
    stripe_event,
    stripe_refund_event,
    stripe_signature,
    timeline,
    webhook_event,
)


@pytest.fixture
def runtime(aws: None) -> LambdaRuntime:
    # As an operator would with `make secrets`: two signing secrets while one is being rolled.
    put_secret("StripeWebhookSecret", f"{STRIPE_SECRET},{STRIPE_OLD_SECRET}")
    return LambdaRuntime(REFS, base_env=FAKE_AWS_ENV)


def _items(ddb: Any) -> list[dict[str, Any]]:
    return ddb.scan(TableName="OrdersTable")["Items"]  # type: ignore[no-any-return]


# --- authenticity: nothing written -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("mutate", "status", "code"),
    [
        ("tampered", 401, "WEBHOOK_SIGNATURE_INVALID"),
        ("wrong_secret", 401, "WEBHOOK_SIGNATURE_INVALID"),
        ("stale", 401, "WEBHOOK_TIMESTAMP_STALE"),
        ("missing", 400, "WEBHOOK_SIGNATURE_MISSING"),
        ("garbage_header", 401, "WEBHOOK_SIGNATURE_INVALID"),
    ],
)
def test_unauthentic_deliveries_are_refused_and_write_nothing(
    api: Api, ddb: Any, mutate: str, status: int, code: str
) -> None:
    # Given an order waiting for payment
    order = create_order(api)
    before = _items(ddb)
    raw = json.dumps(stripe_event(order["order_id"]))
    headers = {"Stripe-Signature": stripe_signature(raw)}
    if mutate == "tampered":
        raw = raw.replace('"amount": 499', '"amount": 1')
    elif mutate == "wrong_secret":
        headers = {"Stripe-Signature": stripe_signature(raw, secret="whsec_someone_else")}
    elif mutate == "stale":
        headers = {"Stripe-Signature": stripe_signature(raw, timestamp=int(time.time()) - 301)}
    elif mutate == "missing":
        headers = {}
    else:
        headers = {"Stripe-Signature": "nonsense"}
    # When it is delivered
    result = api(webhook_event("stripe", raw, headers))
    # Then it is refused with a stable code, and nothing is written
    assert (result.status, result.body["code"]) == (status, code)
    assert _items(ddb) == before
    assert get_order(api, order["order_id"])["status"] == "PENDING_PAYMENT"


def test_malformed_json_with_a_valid_signature_is_400_invalid_json(api: Api) -> None:
    result = post_stripe(api, '{"id": "evt_1", "type": ')
    assert (result.status, result.body["code"]) == (400, "INVALID_JSON")


def test_a_header_with_several_v1_signatures_and_a_rotated_secret_verifies(api: Api) -> None:
    # Given a header signed with the old secret and carrying another (unknown) v1 signature
    order = create_order(api)
    raw = json.dumps(stripe_event(order["order_id"]))
    old = stripe_signature(raw, secret=STRIPE_OLD_SECRET)
    header = old + ",v1=" + "0" * 64
    # When it is delivered
    result = api(webhook_event("stripe", raw, {"Stripe-Signature": header}))
    # Then it verifies (any v1 matches, any configured secret matches)
    assert result.status == 200, result.body
    assert get_order(api, order["order_id"])["status"] == "PAID"


# --- effects -----------------------------------------------------------------------------------
def test_payment_succeeded_marks_the_order_paid_with_a_timeline_event_and_a_ledger_entry(api: Api) -> None:
    order = create_order(api)
    result = post_stripe(api, stripe_event(order["order_id"], event_id="evt_ok_1"))
    assert result.status == 200
    assert result.body == {"received": True, "duplicate": False, "outcome": "PAID"}
    assert get_order(api, order["order_id"])["status"] == "PAID"
    paid = timeline(api, order["order_id"])[-1]
    assert paid["type"] == "PAYMENT_SUCCEEDED"
    assert paid["details"]["provider"] == "stripe"
    assert paid["details"]["amount"] == 499
    (entry,) = ledger(api, order["order_id"])
    assert entry["event_id"] == "evt_ok_1"
    assert entry["outcome"] == "PAID"
    assert (entry["amount"], entry["currency"], entry["payment_reference"]) == (499, "USD", "pi_test_0001")


def test_failed_then_succeeded(api: Api) -> None:
    # Given an order whose first payment attempt failed
    order = create_order(api)
    assert post_stripe(api, stripe_event(order["order_id"], "payment_intent.payment_failed")).status == 200
    assert get_order(api, order["order_id"])["status"] == "PAYMENT_FAILED"
    # When a second failure and then a success arrive
    second = post_stripe(api, stripe_event(order["order_id"], "payment_intent.payment_failed"))
    assert second.body["outcome"] == "FAILURE_RECORDED"
    assert post_stripe(api, stripe_event(order["order_id"])).body["outcome"] == "PAID"
    # Then the order is paid, and the ledger holds all three attempts
    assert get_order(api, order["order_id"])["status"] == "PAID"
    assert [e["outcome"] for e in ledger(api, order["order_id"])] == ["PAYMENT_FAILED", "FAILURE_RECORDED", "PAID"]


def test_events_out_of_order_never_move_an_order_backwards(api: Api) -> None:
    # Given a paid order
    order = create_order(api)
    post_stripe(api, stripe_event(order["order_id"]))
    # When an older payment_failed arrives late
    late = post_stripe(api, stripe_event(order["order_id"], "payment_intent.payment_failed"))
    # Then it is recorded as stale and changes nothing
    assert (late.status, late.body["outcome"]) == (200, "STALE")
    current = get_order(api, order["order_id"])
    assert (current["status"], len(timeline(api, order["order_id"]))) == ("PAID", 2)


@pytest.mark.parametrize(("amount", "currency"), [(1, "usd"), (499, "eur"), (4990, "usd")])
def test_amount_or_currency_mismatch_is_not_paid_and_is_recorded(api: Api, amount: int, currency: str) -> None:
    order = create_order(api)
    result = post_stripe(api, stripe_event(order["order_id"], amount=amount, currency=currency))
    assert (result.status, result.body["outcome"]) == (200, "AMOUNT_MISMATCH")
    assert get_order(api, order["order_id"])["status"] == "PENDING_PAYMENT"
    (entry,) = ledger(api, order["order_id"])
    assert entry["outcome"] == "AMOUNT_MISMATCH"


def test_an_event_for_an_unknown_order_is_2xx_and_kept_for_reconciliation(api: Api, ddb: Any) -> None:
    for order_id in ("ord_" + "f" * 32, None):
        body = stripe_event(order_id, event_id=f"evt_unknown_{order_id}", intent_id="pi_unknown")
        result = post_stripe(api, body)
        assert (result.status, result.body["outcome"]) == (200, "UNKNOWN_ORDER")
    queue = ddb.query(
        TableName="OrdersTable",
        IndexName="GSI3",
        KeyConditionExpression="GSI3PK = :q",
        ExpressionAttributeValues={":q": {"S": "QUEUE#PAYMENT_RECON#OPEN"}},
    )["Items"]
    assert len(queue) == 2


def test_a_success_for_a_cancelled_order_is_an_anomaly_and_does_not_resurrect_it(
    api: Api, runtime: LambdaRuntime
) -> None:
    from tests.integration.stepfunctions import workflow_refs, workflows

    runtime.set_ref("RefundStateMachine", workflow_refs()["RefundStateMachine"])
    with substituted(), workflows(runtime, REFS | workflow_refs()) as flows:
        order = create_order(api)
        cancel = api(
            __import__("tests.conftest", fromlist=["api_event"]).api_event(
                "orders_cancel_order", user=USER, path_params={"order_id": order["order_id"]}
            )
        )
        assert cancel.status == 200
        result = post_stripe(api, stripe_event(order["order_id"]))
        assert (result.status, result.body["outcome"]) == (200, "PAID_WHILE_CANCELLED")
        assert get_order(api, order["order_id"])["status"] == "CANCELLED"
        # The money is refunded automatically (tests/integration/test_cancel_payment.py goes further)
        [execution] = flows.executions("RefundStateMachine")
        assert flows.wait(execution["executionArn"])["status"] == "SUCCEEDED"


# --- exactly once ------------------------------------------------------------------------------
def test_the_same_event_delivered_twice_has_one_effect(api: Api) -> None:
    order = create_order(api)
    body = stripe_event(order["order_id"], event_id="evt_dup")
    first, second = post_stripe(api, body), post_stripe(api, body)
    assert first.body["duplicate"] is False
    assert second.body == {"received": True, "duplicate": True, "outcome": "PAID"}
    assert len(timeline(api, order["order_id"])) == 2
    assert len(ledger(api, order["order_id"])) == 1


def test_twenty_concurrent_deliveries_of_one_event_make_one_transition_and_one_ledger_entry(
    api: Api, runtime: LambdaRuntime
) -> None:
    """Through the real handler from 20 threads: the local runtime runs up to its pool of invocations
    of the function at once, as Lambda would run them in as many execution environments."""
    # Given an order and one signed event
    order = create_order(api)
    raw = json.dumps(stripe_event(order["order_id"], event_id="evt_concurrent"))
    event = webhook_event("stripe", raw, {"Stripe-Signature": stripe_signature(raw)})
    results: list[Any] = []
    lock = threading.Lock()
    barrier = threading.Barrier(20)

    def deliver() -> None:
        barrier.wait()
        response = api(event)
        with lock:
            results.append(response)

    # When it is delivered 20 times at once
    threads = [threading.Thread(target=deliver) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then every delivery is answered 200, and exactly one took effect
    assert [r.status for r in results] == [200] * 20
    assert sorted(r.body["duplicate"] for r in results) == [False] + [True] * 19
    assert len(timeline(api, order["order_id"])) == 2
    assert len(ledger(api, order["order_id"])) == 1
    assert runtime.peak["PaymentWebhookFunction"] > 1  # they did run at the same time


def test_twenty_concurrent_first_deliveries_race_on_the_condition(api: Api, runtime: LambdaRuntime) -> None:
    """All 20 read "not yet seen" before any writes: the transaction's conditions pick one winner."""
    from orders.adapters.payments import payment_webhooks
    from orders.adapters.payments.stripe_adapter import to_event
    from orders.logic import payments

    order = create_order(api)
    runtime.activate("PaymentWebhookFunction")  # the webhook function's settings, for the logic called below
    event = to_event(stripe_event(order["order_id"], event_id="evt_race"))
    barrier = threading.Barrier(20)
    outcomes: list[bool] = []
    lock = threading.Lock()

    def deliver() -> None:
        barrier.wait()
        result = payments.handle_event(event, webhooks=payment_webhooks())
        with lock:
            outcomes.append(result.duplicate)

    threads = [threading.Thread(target=deliver) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == [False] + [True] * 19
    assert len(timeline(api, order["order_id"])) == 2
    assert len(ledger(api, order["order_id"])) == 1


# --- refunds -----------------------------------------------------------------------------------
def test_partial_then_full_provider_side_refund(api: Api) -> None:
    # Given a paid order of 499
    order = create_order(api)
    post_stripe(api, stripe_event(order["order_id"]))
    # When Stripe reports a partial refund, then the rest (each refund its own refund.created)
    partial = post_stripe(api, stripe_refund_event(order["order_id"], "re_1", 200))
    assert partial.body["outcome"] == "REFUND_RECORDED"
    state = get_order(api, order["order_id"])
    assert (state["status"], state["refunded_total"]) == ("PAID", 200)
    full = post_stripe(api, stripe_refund_event(order["order_id"], "re_2", 299))
    # Then refunded_total counts each refund once and the order is REFUNDED
    assert full.body["outcome"] == "REFUNDED"
    state = get_order(api, order["order_id"])
    assert (state["status"], state["refunded_total"]) == ("REFUNDED", 499)
    types = [e["type"] for e in timeline(api, order["order_id"])]
    assert types == ["CREATED", "PAYMENT_SUCCEEDED", "PROVIDER_REFUND_RECORDED", "REFUND_FULL"]


def test_a_pending_refund_counts_once_when_it_succeeds(api: Api) -> None:
    order = create_order(api)
    post_stripe(api, stripe_event(order["order_id"]))
    # Given refund.created (pending), then refund.updated (succeeded), then a second refund.updated (succeeded)
    pending = post_stripe(api, stripe_refund_event(order["order_id"], "re_p", 100, status="pending"))
    assert pending.body["outcome"] == "NOTED"
    assert get_order(api, order["order_id"])["refunded_total"] == 0
    done = post_stripe(api, stripe_refund_event(order["order_id"], "re_p", 100, event_type="refund.updated"))
    again = post_stripe(api, stripe_refund_event(order["order_id"], "re_p", 100, event_type="refund.updated"))
    # Then the refund is counted once
    assert (done.body["outcome"], again.body["outcome"]) == ("REFUND_RECORDED", "REFUND_ALREADY_RECORDED")
    assert get_order(api, order["order_id"])["refunded_total"] == 100


def test_a_failed_refund_never_counts(api: Api) -> None:
    order = create_order(api)
    post_stripe(api, stripe_event(order["order_id"]))
    post_stripe(api, stripe_refund_event(order["order_id"], "re_f", 100, status="pending"))
    failed = post_stripe(
        api, stripe_refund_event(order["order_id"], "re_f", 100, status="failed", event_type="refund.failed")
    )
    assert failed.body["outcome"] == "NOTED"
    assert get_order(api, order["order_id"])["refunded_total"] == 0
    assert "PROVIDER_REFUND_FAILED" in [e["type"] for e in timeline(api, order["order_id"])]


def test_a_counted_refund_that_fails_later_goes_to_reconciliation(api: Api) -> None:
    order = create_order(api)
    post_stripe(api, stripe_event(order["order_id"]))
    post_stripe(api, stripe_refund_event(order["order_id"], "re_late", 100))
    failed = post_stripe(
        api, stripe_refund_event(order["order_id"], "re_late", 100, status="failed", event_type="refund.failed")
    )
    assert failed.body["outcome"] == "NEEDS_RECONCILIATION"


def test_charge_refunded_is_recorded_but_never_counted(api: Api) -> None:
    from tests.contract.stripe.contract import event, fixture

    order = create_order(api)
    post_stripe(api, stripe_event(order["order_id"]))
    # charge.refunded as Stripe sends it today: cumulative amount_refunded, no refunds list
    charge = fixture("charge", payment_intent="pi_test_0001", amount_refunded=200, metadata={})
    charge.pop("refunds")
    result = post_stripe(api, event("charge.refunded", charge, id="evt_charge_refunded"))
    assert result.body["outcome"] == "IGNORED"
    post_stripe(api, stripe_refund_event(order["order_id"], "re_c", 200))
    assert get_order(api, order["order_id"])["refunded_total"] == 200


def test_a_refund_we_initiated_is_not_counted_again_by_its_webhook(api: Api) -> None:
    order = create_order(api)
    post_stripe(api, stripe_event(order["order_id"]))
    # When the refund.created of a refund our workflow asked for arrives (metadata.refund_id)
    own = post_stripe(api, stripe_refund_event(order["order_id"], "re_own", 100, our_refund_id="rf_123"))
    # Then it is recorded and refunded_total is left to the refund workflow
    assert own.body["outcome"] == "OWN_REFUND"
    assert get_order(api, order["order_id"])["refunded_total"] == 0


def test_a_provider_refund_already_recorded_by_the_workflow_is_not_counted_twice(
    api: Api, runtime: LambdaRuntime
) -> None:
    from orders.logic import payments
    from orders.models.payment import Provider

    order = create_order(api)
    post_stripe(api, stripe_event(order["order_id"]))
    # Given the refund workflow recorded provider refund re_wf (in PaymentWebhookFunction's settings)
    runtime.activate("PaymentWebhookFunction")
    assert payments.record_provider_refund(
        order["order_id"], Provider.STRIPE, "re_wf", 150, actor="system:refunds", refund_id="rf_9"
    )
    assert not payments.record_provider_refund(
        order["order_id"], Provider.STRIPE, "re_wf", 150, actor="system:refunds", refund_id="rf_9"
    )
    # When its webhook arrives without our metadata
    result = post_stripe(api, stripe_refund_event(order["order_id"], "re_wf", 150))
    # Then nothing is counted twice
    assert result.body["outcome"] == "REFUND_ALREADY_RECORDED"
    assert get_order(api, order["order_id"])["refunded_total"] == 150


def test_a_refund_event_without_order_metadata_finds_the_order_by_its_payment_intent(api: Api) -> None:
    order = create_order(api)
    post_stripe(api, stripe_event(order["order_id"], intent_id="pi_lookup"))
    body = stripe_refund_event(None, "re_x", 499, intent_id="pi_lookup")
    result = post_stripe(api, body)
    assert result.body["outcome"] == "REFUNDED"
    assert get_order(api, order["order_id"])["status"] == "REFUNDED"


# --- disputes and cancellations -----------------------------------------------------------------
def test_a_dispute_is_on_the_timeline_and_alerts_ops(api: Api, capsys: pytest.CaptureFixture[str]) -> None:
    order = create_order(api)
    post_stripe(api, stripe_event(order["order_id"], intent_id="pi_disputed"))
    capsys.readouterr()
    # When the cardholder disputes the payment (the Dispute names the PaymentIntent only)
    opened = post_stripe(
        api,
        stripe_dispute_event(
            "dp_1", 499, status="needs_response", event_type="charge.dispute.created", intent_id="pi_disputed"
        ),
    )
    # Then it is on the order's timeline, counted as a dispute (alarm → ops topic), and the order keeps its status
    assert opened.body["outcome"] == "DISPUTE_OPENED"
    assert "PaymentDisputes" in capsys.readouterr().out
    assert timeline(api, order["order_id"])[-1]["type"] == "PAYMENT_DISPUTE_OPENED"
    assert get_order(api, order["order_id"])["status"] == "PAID"


def test_a_lost_dispute_is_a_provider_refund_of_the_disputed_amount(api: Api) -> None:
    order = create_order(api)
    post_stripe(api, stripe_event(order["order_id"], intent_id="pi_lost"))
    closed = stripe_dispute_event("dp_2", 499, status="lost", event_type="charge.dispute.closed", intent_id="pi_lost")
    assert post_stripe(api, closed).body["outcome"] == "REFUNDED"
    replay = {**closed, "id": "evt_other_delivery_same_dispute"}
    assert post_stripe(api, replay).body["outcome"] == "REFUND_ALREADY_RECORDED"
    state = get_order(api, order["order_id"])
    assert (state["status"], state["refunded_total"]) == ("REFUNDED", 499)


def test_a_won_dispute_is_noted_and_the_user_keeps_the_purchase(api: Api) -> None:
    order = create_order(api)
    post_stripe(api, stripe_event(order["order_id"], intent_id="pi_won"))
    closed = stripe_dispute_event("dp_3", 499, status="won", event_type="charge.dispute.closed", intent_id="pi_won")
    assert post_stripe(api, closed).body["outcome"] == "NOTED"
    state = get_order(api, order["order_id"])
    assert (state["status"], state["refunded_total"]) == ("PAID", 0)


def test_a_cancelled_payment_intent_fails_the_payment(api: Api) -> None:
    order = create_order(api)
    result = post_stripe(api, stripe_event(order["order_id"], "payment_intent.canceled"))
    assert result.body["outcome"] == "PAYMENT_FAILED"
    assert get_order(api, order["order_id"])["status"] == "PAYMENT_FAILED"


# --- the ledger API ----------------------------------------------------------------------------
def test_the_ledger_is_readable_by_the_owner_and_ops_only(api: Api) -> None:
    order = create_order(api)
    post_stripe(api, stripe_event(order["order_id"]))
    assert len(ledger(api, order["order_id"], user="ops-1", groups=("ops",))) == 1
    from tests.conftest import api_event

    other = api(api_event("payments_list_payments", user="someone-else", path_params={"order_id": order["order_id"]}))
    assert (other.status, other.body["code"]) == (404, "ORDER_NOT_FOUND")


# --- cost ------------------------------------------------------------------------------------------
def test_dynamodb_calls_per_webhook_first_delivery_and_duplicate(api: Api) -> None:
    """Measured with botocore's event hooks on the client the handlers use (reported in docs/payments.md)."""
    from orders.dal.dynamo import dynamodb_client

    order = create_order(api)
    calls: list[str] = []
    dynamodb_client().meta.events.register("before-call.dynamodb.*", lambda model, **_: calls.append(model.name))
    raw = json.dumps(stripe_event(order["order_id"], event_id="evt_cost"))
    event = webhook_event("stripe", raw, {"Stripe-Signature": stripe_signature(raw)})

    assert api(event).status == 200
    first, calls[:] = list(calls), []
    assert api(event).body["duplicate"] is True
    duplicate = list(calls)

    assert first == ["BatchGetItem", "TransactWriteItems"]
    assert duplicate == ["BatchGetItem"]
