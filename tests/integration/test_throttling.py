"""AWS throttling reaches the client as 429 + Retry-After with a stable code, never a 500."""

from __future__ import annotations

import json
from typing import Any

import botocore.client
import pytest
from botocore.exceptions import ClientError

from tests.conftest import api_event
from tests.integration.conftest import Api
from tests.integration.helpers import placed

_real_call = botocore.client.BaseClient._make_api_call  # type: ignore[attr-defined]


def throttle(operation: str, code: str) -> Any:
    def call(self: Any, name: str, params: dict[str, Any]) -> Any:
        if name == operation:
            raise ClientError({"Error": {"Code": code, "Message": "slow down"}}, name)
        return _real_call(self, name, params)

    return call


@pytest.mark.parametrize("code", ["ProvisionedThroughputExceededException", "ThrottlingException"])
def test_a_dynamodb_throttle_is_429_with_retry_after(api: Api, monkeypatch: pytest.MonkeyPatch, code: str) -> None:
    # Given an order
    oid = placed(api)["order_id"]
    # When DynamoDB refuses the read for capacity (after boto3's own retries)
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", throttle("GetItem", code))
    event = api_event("orders_get_order", path_params={"order_id": oid})
    result = api.runtime.invoke("OrdersFunction", event)
    # Then the client is told to come back, with a stable code and when (REST: multiValueHeaders)
    assert result["statusCode"] == 429
    assert json.loads(result["body"])["code"] == "THROTTLED"
    retry_after = (result.get("headers") or {}).get("Retry-After") or result["multiValueHeaders"]["Retry-After"][0]
    assert int(retry_after) >= 1


def test_another_aws_error_is_not_disguised_as_a_throttle(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an order, and DynamoDB failing for a reason that is not capacity
    oid = placed(api)["order_id"]
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", throttle("GetItem", "InternalServerError"))
    # When it is read / Then the error is not answered as a throttle (it fails the invocation as before)
    with pytest.raises(ClientError, match="InternalServerError"):
        api.runtime.invoke("OrdersFunction", api_event("orders_get_order", path_params={"order_id": oid}))
