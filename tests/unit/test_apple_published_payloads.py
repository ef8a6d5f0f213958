"""The Apple adapter on Apple's own data: the app-store-server-library's signed test vectors and its example payloads.

Files in tests/fixtures/apple (source: tests/fixtures/apple/README.md). The signed vectors are verified
as the library's own tests verify them (its test CA as root, strict certificate checks off because its
test certificates carry no authority identifiers). The example payloads (unsigned JSON in the library)
are signed here with the test chain of tests/apple_chain.py, their content unchanged but for the
environment ("LocalTesting" → "Sandbox"), ``signedDate`` (now: the test chain's certificates are new, and
the library checks them at the signing date) and the notification type where a test says so.
"""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any

import pytest
from appstoreserverlibrary.models.Environment import Environment
from appstoreserverlibrary.signed_data_verifier import SignedDataVerifier

from orders import errors
from orders.adapters.payments.apple_adapter import AppleWebhooks
from orders.models.payment import PaymentEventKind
from tests.apple_chain import shared_chain, sign

APPLE = Path(__file__).resolve().parent.parent / "fixtures" / "apple"
# appAccountToken 7e3fb20b-4cdb-... in Apple's examples, as our order id
ORDER_FROM_APPLES_TOKEN = "ord_7e3fb20b4cdb47cc936d99d65f608138"


def _library_adapter(
    environment: Environment, bundle_id: str = "com.example", app_apple_id: int = 1234
) -> AppleWebhooks:
    verifier = SignedDataVerifier([(APPLE / "testCA.der").read_bytes()], False, environment, bundle_id, app_apple_id)
    verifier._chain_verifier.enable_strict_checks = False  # as the library's tests/util.py does for its test CA
    return AppleWebhooks(verifier)


def _envelope(signed: str) -> bytes:
    return json.dumps({"signedPayload": signed}).encode()


# --- the library's signed test vectors ---------------------------------------------------------
def test_apples_signed_test_notification_is_a_test_event_with_no_effect() -> None:
    event = _library_adapter(Environment.SANDBOX).parse({}, _envelope((APPLE / "testNotification").read_text()))
    assert (event.event_type, event.kind, event.order_id) == ("TEST", PaymentEventKind.OTHER, None)


def test_apples_sandbox_test_notification_is_refused_by_a_production_stage() -> None:
    with pytest.raises(errors.WebhookSignatureInvalid) as refused:
        _library_adapter(Environment.PRODUCTION).parse({}, _envelope((APPLE / "testNotification").read_text()))
    assert refused.value.details["reason"] == "INVALID_ENVIRONMENT"


def test_apples_wrong_bundle_vector_is_refused() -> None:
    wrong_bundle = _envelope((APPLE / "wrongBundleId").read_text())
    with pytest.raises(errors.WebhookSignatureInvalid) as refused:
        _library_adapter(Environment.SANDBOX, "com.examplex").parse({}, wrong_bundle)
    assert refused.value.details["reason"] == "INVALID_APP_IDENTIFIER"


def test_apples_signed_transaction_and_renewal_vectors_decode() -> None:
    verifier = _library_adapter(Environment.SANDBOX)._verifier
    assert verifier is not None
    transaction = verifier.verify_and_decode_signed_transaction((APPLE / "transactionInfo").read_text())
    renewal = verifier.verify_and_decode_renewal_info((APPLE / "renewalInfo").read_text())
    assert (transaction.environment, renewal.environment) == (Environment.SANDBOX, Environment.SANDBOX)


# --- Apple's example payloads, signed with the test chain ------------------------------------------
def _example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((APPLE / name).read_text())
    return data


def _sandbox(payload: dict[str, Any]) -> dict[str, Any]:
    patched = copy.deepcopy(payload)
    if "signedDate" in patched:
        patched["signedDate"] = int(time.time() * 1000)
    if "environment" in patched:
        patched["environment"] = "Sandbox"
    if "data" in patched:
        patched["data"]["environment"] = "Sandbox"
    return patched


def _notification(
    notification_type: str | None = None,
    subtype: str | None = None,
    transaction: str = "signedTransaction.json",
    base: str = "signedNotification.json",
) -> bytes:
    chain = shared_chain()
    payload = _sandbox(_example(base))
    if notification_type is not None:
        payload["notificationType"] = notification_type
        payload.pop("subtype", None)
    if subtype is not None:
        payload["subtype"] = subtype
    payload["data"]["signedTransactionInfo"] = sign(_sandbox(_example(transaction)), chain)
    payload["data"]["signedRenewalInfo"] = sign(_sandbox(_example("signedRenewalInfo.json")), chain)
    return _envelope(sign(payload, chain))


def _adapter() -> AppleWebhooks:
    verifier = SignedDataVerifier([shared_chain().root_der], False, Environment.SANDBOX, "com.example", 41234)
    return AppleWebhooks(verifier)


def test_apples_subscribed_example_pays_the_order_in_its_app_account_token() -> None:
    event = _adapter().parse({}, _notification())
    assert (event.event_type, event.kind) == ("SUBSCRIBED/INITIAL_BUY", PaymentEventKind.SUCCEEDED)
    # price 10990 milliunits USD; appAccountToken → our order id; expiresDate kept
    assert (event.order_id, event.amount, event.currency) == (ORDER_FROM_APPLES_TOKEN, 1099, "USD")
    assert event.payment_reference == "12345"
    assert event.subscription_expires_at is not None


def test_apples_prorated_refund_example_refunds_its_percentage() -> None:
    event = _adapter().parse({}, _notification("REFUND", transaction="signedTransactionWithRevocation.json"))
    assert event.kind is PaymentEventKind.REFUNDED
    # revocationType REFUND_PRORATED, revocationPercentage 50000 (50 %) of 10.99 USD, rounded down
    assert [(r.refund_id, r.amount) for r in event.refunds] == [("refund:23456", 549)]
    assert event.provider_references["revocation_type"] == "REFUND_PRORATED"


def test_a_full_refund_refunds_the_whole_price() -> None:
    full = _sandbox(_example("signedTransactionWithRevocation.json"))
    full["revocationType"] = "REFUND_FULL"
    full.pop("revocationPercentage")
    chain = shared_chain()
    payload = _sandbox(_example("signedNotification.json")) | {"notificationType": "REFUND"}
    payload.pop("subtype")
    payload["data"]["signedTransactionInfo"] = sign(full, chain)
    payload["data"].pop("signedRenewalInfo")
    event = _adapter().parse({}, _envelope(sign(payload, chain)))
    assert [(r.refund_id, r.amount) for r in event.refunds] == [("refund:23456", 1099)]


@pytest.mark.parametrize(
    ("notification_type", "subtype", "kind", "notice"),
    [
        ("DID_RENEW", None, PaymentEventKind.RENEWED, None),
        ("DID_FAIL_TO_RENEW", "GRACE_PERIOD", PaymentEventKind.NOTICE, "SUBSCRIPTION_GRACE_PERIOD"),
        ("DID_FAIL_TO_RENEW", None, PaymentEventKind.NOTICE, "SUBSCRIPTION_BILLING_RETRY"),
        ("EXPIRED", "VOLUNTARY", PaymentEventKind.NOTICE, "SUBSCRIPTION_EXPIRED"),
        ("REVOKE", None, PaymentEventKind.NOTICE, "PURCHASE_REVOKED"),
    ],
)
def test_apples_examples_map_each_notification_type(
    notification_type: str, subtype: str | None, kind: PaymentEventKind, notice: str | None
) -> None:
    event = _adapter().parse({}, _notification(notification_type, subtype))
    assert (event.kind, event.notice, event.order_id) == (kind, notice, ORDER_FROM_APPLES_TOKEN)
    if subtype == "GRACE_PERIOD":
        # gracePeriodExpiresDate of Apple's renewal-info example
        assert event.provider_references["grace_period_expires_at"].startswith("2023-10-24")


def test_apples_consumption_request_example_asks_for_an_answer() -> None:
    event = _adapter().parse({}, _notification(base="signedConsumptionRequestNotification.json"))
    assert (event.kind, event.notice) == (PaymentEventKind.NOTICE, "REFUND_CONSUMPTION_REQUESTED")
    refs = event.provider_references
    assert (refs["consumption_request"], refs["consumption_request_reason"]) == ("pending", "UNINTENDED_PURCHASE")
    assert (refs["transaction_id"], refs["customer_consented"]) == ("23456", "false")
