"""The in-process Lambda runtime: each function reads only its own settings, as in its own process."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from local_stack.resources import base_refs
from local_stack.runtime import LambdaRuntime
from local_stack.template import load_template
from orders.config import get_config


@pytest.fixture
def runtime() -> Iterator[LambdaRuntime]:
    saved = dict(os.environ)
    yield LambdaRuntime(base_refs(load_template()))
    os.environ.clear()
    os.environ.update(saved)


def test_a_function_does_not_see_the_settings_of_the_function_before_it(runtime: LambdaRuntime) -> None:
    # Given the catalog function ran (it has CATALOG_TABLE)
    runtime.activate("CatalogFunction")
    assert get_config().catalog_table == "CatalogTable"
    # When the payment webhook function runs (it has no CATALOG_TABLE in template.yaml)
    runtime.activate("PaymentWebhookFunction")
    # Then its settings lack the catalog table, as they would in its own Lambda process
    assert get_config().catalog_table is None
    with pytest.raises(RuntimeError, match="CATALOG_TABLE is not set"):
        get_config().table("catalog_table")
    assert get_config().orders_table == "OrdersTable"


def test_switching_functions_never_removes_process_variables(runtime: LambdaRuntime) -> None:
    # Other threads iterate os.environ while functions switch: a key must never vanish under them.
    runtime.activate("CatalogFunction")
    before = set(os.environ)
    runtime.activate("PaymentWebhookFunction")
    assert before <= set(os.environ)
    assert os.environ["POWERTOOLS_SERVICE_NAME"] == "payment-webhook"
