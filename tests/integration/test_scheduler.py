"""Scheduled jobs through the real handler: expiry releases stock, auto-completion, ticket deadlines."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from orders.logic import scheduler
from orders.models.common import utcnow
from tests.conftest import api_event
from tests.integration.conftest import Api
from tests.integration.helpers import mark_paid, order_items, placed, set_stock, stock_of
from tests.integration.test_shipping import order_in


def later(monkeypatch: pytest.MonkeyPatch, **delta: float) -> None:
    moment = utcnow() + timedelta(**delta)
    monkeypatch.setattr(scheduler, "utcnow", lambda: moment)


def run(runtime: Any, job: str) -> dict[str, Any]:
    return runtime.invoke("SchedulerFunction", {"job": job})  # type: ignore[no-any-return]


def status(api: Api, oid: str) -> str:
    return api(api_event("orders_get_order", path_params={"order_id": oid})).body["status"]  # type: ignore[no-any-return]


def test_unpaid_orders_expire_after_the_ttl_and_release_their_stock(
    api: Api, runtime: Any, ddb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given 3 mugs, one unpaid order for 2 and one paid order for 1
    set_stock(ddb, "mug-classic", 3)
    body = {
        "items": [{"sku": "mug-classic", "quantity": 2}],
        "shipping_address": {"name": "A", "line1": "B", "city": "C", "postal_code": "D", "country": "GB"},
    }
    unpaid, paid = placed(api, body), placed(api)
    mark_paid(runtime, paid["order_id"])
    assert stock_of(ddb, "mug-classic") == 0
    # When the job runs before the TTL / Then nothing happens
    assert run(runtime, "expire-unpaid")["changed"] == 0
    # When it runs after the TTL (30 minutes in the template)
    later(monkeypatch, minutes=31)
    assert run(runtime, "expire-unpaid") == {"job": "expire-unpaid", "found": 1, "changed": 1}
    # Then the unpaid order is cancelled, its 2 mugs are back, the paid order is untouched
    assert (status(api, unpaid["order_id"]), status(api, paid["order_id"])) == ("CANCELLED", "PAID")
    assert stock_of(ddb, "mug-classic") == 2
    events = api(api_event("orders_get_timeline", path_params={"order_id": unpaid["order_id"]})).body["items"]
    assert (events[-1]["type"], events[-1]["actor"]) == ("EXPIRE", "system:expire-unpaid")
    # And a second run finds nothing and writes nothing
    before = order_items(ddb)
    assert run(runtime, "expire-unpaid")["found"] == 0
    assert order_items(ddb) == before
    assert stock_of(ddb, "mug-classic") == 2


def test_delivered_orders_are_completed_after_n_days_and_a_second_run_is_harmless(
    api: Api, runtime: Any, ddb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = order_in(api, runtime, "DELIVERED")
    confirmed = order_in(api, runtime, "COMPLETED")
    assert run(runtime, "auto-complete")["changed"] == 0
    later(monkeypatch, days=7, seconds=1)
    assert run(runtime, "auto-complete") == {"job": "auto-complete", "found": 1, "changed": 1}
    assert status(api, old) == "COMPLETED"
    assert status(api, confirmed) == "COMPLETED"
    before = order_items(ddb)
    assert run(runtime, "auto-complete") == {"job": "auto-complete", "found": 0, "changed": 0}
    assert order_items(ddb) == before


def test_a_candidate_that_moved_on_meanwhile_is_skipped(
    api: Api, runtime: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    oid = order_in(api, runtime, "DELIVERED")
    later(monkeypatch, days=8)
    # The owner confirms between the query and the change: the stale candidate is skipped
    real = scheduler.orders_repository  # type: ignore[attr-defined]

    def racing() -> Any:
        repo = real()
        ids = repo.due_orders

        def due(*args: Any) -> list[str]:
            found = ids(*args)
            api(api_event("shipping_confirm_receipt", path_params={"order_id": oid}))
            runtime._enter("SchedulerFunction")
            return found

        repo.due_orders = due  # type: ignore[method-assign,assignment]
        return repo

    monkeypatch.setattr(scheduler, "orders_repository", racing)
    assert run(runtime, "auto-complete") == {"job": "auto-complete", "found": 1, "changed": 0}
    assert status(api, oid) == "COMPLETED"


def test_an_unknown_job_is_refused(runtime: Any) -> None:
    with pytest.raises(Exception, match="Unknown job"):
        run(runtime, "make-coffee")
