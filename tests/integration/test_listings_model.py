"""Model-based test of listing review and the catalog it writes: random histories through the real handlers.

A hypothesis ``RuleBasedStateMachine`` lets two merchants of a history propose new products and changes
(well-formed, auto-rejected, malformed, for another merchant's sku), reviewers approve or reject them (twice,
late, for their own shop), the review deadline pass (the real ListingStateMachine on moto's executor, with the
real listing worker), stale task tokens be replayed to the workflow, and ops create, edit, hide and hand over
products behind the merchants' backs (catalog administration). The model keeps, per sku, the product as the
last *accepted* write left it (an approval the API answered APPROVED, or an ops write answered 2xx).

After every step, once the workflows wait for a reviewer or have ended, it checks (``Violations``):

* a listing is decided at most once: once it left PENDING_REVIEW its status, version and decider never change;
* the catalog product of every sku is exactly the model's (so a rejected, auto-rejected, failed or timed-out
  listing never changed it, and an approved one did, in full);
* an approval is APPROVED unless the product changed hands or the sku was taken meanwhile (PRODUCT_CHANGED);
* the search index (docs/search.md): a listed product has one keyword item per indexed token (every token of
  its name among them), each naming the product, its category and its token set; no keyword item names a
  product that is hidden, missing or not indexed by that token; every category counter equals the number of
  listed products in that category (the whole catalog); ``GET /categories`` and ``GET /products?q=`` agree;
* the sku's lock exists exactly while one of its listings is PENDING_REVIEW;
* a merchant's listings (``GET /merchant/listings``) are exactly the ones it submitted; another merchant's
  product is 404 to it; a reviewer cannot decide their own shop's listing;
* a replayed (stale) task token is refused by Step Functions and changes nothing;
* no call answers 5xx, and every answer is one the rule expects.

CI runs it derandomized. ``LISTINGS_MODEL_EXAMPLES`` / ``LISTINGS_MODEL_STEPS`` / ``LISTINGS_MODEL_RANDOM``
raise the number of histories and steps and draw new ones (as ``make soak`` does for the money model).
"""

from __future__ import annotations

import contextlib
import json
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
from hypothesis import strategies as st
from hypothesis.stateful import (
    initialize,
    invariant,
    precondition,
    rule,
)

from local_stack.runtime import LambdaRuntime
from tests.conftest import api_event
from tests.integration import test_listings as listing_tests
from tests.integration.conftest import REFS, Api, HttpResult
from tests.integration.model_support import Budget, ModelMachine, Tally, run_model
from tests.integration.stepfunctions import Workflows, workflow_refs, workflows
from tests.integration.test_listings import SCARF, SM, awaiting_review, listings_of, propose
from tests.integration.test_merchants import NORTH, as_merchant

REVIEWER = "reviewer-model"
OPS = "ops-model"
BUDGET = Budget.from_env("LISTINGS_MODEL", examples=6, steps=15)

# Names: plain, accented and Chinese (one token in two ways), a lone letter (not indexed), and two names of
# 50 distinct words (more than the indexed tokens, none in common: a rename rewrites the whole index).
LONG_X = " ".join(f"x{n:02d}" for n in range(50))
LONG_Y = " ".join(f"y{n:02d}" for n in range(50))
NAMES = ["Wool Scarf", "Crème Brûlée Mug", "CREME mug", "青花瓷 茶杯", "T-Shirt a", LONG_X, LONG_Y]
DESCRIPTIONS = ["Merino wool, 180 cm.", "Ceramic, 350 ml.", "A genuine replica of a classic."]
TAGS = [[], ["wool"], ["gift", "tea-time"]]
PRICES = [50, 1300, 20, 999_999]
IMAGES = ["https://img.example/model/1.jpg"]
DECIDED = ("APPROVED", "REJECTED", "AUTO_REJECTED", "FAILED")
PRODUCT_FIELDS = ("merchant_id", "name", "description", "price", "category", "tags", "images", "active", "kind")

# Malformed or unauthorised submissions: refused with a 4xx, nothing written.
HOSTILE: dict[str, tuple[str, dict[str, Any], int]] = {
    "price 0": ("propose", {"price": 0}, 422),
    "http image": ("propose", {"images": ["http://img.example/1.jpg"]}, 422),
    "unknown field": ("propose", {"merchant_id": "pixel-forge"}, 422),
    "index key as sku": ("propose", {"sku": "#TOK#wool#x"}, 422),
    "null name": ("change", {"name": None}, 422),
    "empty change": ("change", {}, 422),
    "unlinked merchant": ("unlinked", {}, 403),
}


@dataclass
class World(Tally):
    api: Api
    runtime: LambdaRuntime
    flows: Workflows
    ddb: Any


# The listing workflow on moto, as tests/integration/test_listings.py deploys it (its fixtures, reused).
runtime = listing_tests.runtime
flows = listing_tests.flows
review_timeout = listing_tests.review_timeout
timeout_action = listing_tests.timeout_action


@contextlib.contextmanager
def world(runtime: LambdaRuntime) -> Iterator[World]:
    from orders.dal.workflow import sfn_client

    sfn_client.cache_clear()
    try:
        with workflows(runtime, REFS | workflow_refs()) as flows:
            yield World(Api(runtime), runtime, flows, boto3.client("dynamodb", region_name="us-east-1"))
    finally:
        sfn_client.cache_clear()


@dataclass
class ListingModel:
    listing_id: str
    merchant: str
    sku: str
    kind: str  # CREATE / UPDATE
    changes: dict[str, Any]
    final: tuple[Any, ...] | None = None  # (status, version, decided_by) once decided
    token: str | None = None


class ListingsMachine(ModelMachine[World]):
    def __init__(self) -> None:
        super().__init__()
        tag = self.tag
        self.merchants = [f"ma-{tag}", f"mb-{tag}"]
        self.skus = [f"s{n}-{tag}" for n in range(3)]
        self.categories = [f"c0-{tag}", f"c1-{tag}"]
        self.products: dict[str, dict[str, Any]] = {}  # sku -> the product as the last accepted write left it
        self.listings: list[ListingModel] = []
        self.touched: set[str] = set()

    # --- plumbing ------------------------------------------------------------------------------
    def call(self, event: dict[str, Any], expect: tuple[int, ...], what: str) -> HttpResult:
        result = self.w.api(event)
        self.w.coverage[f"{what} {result.status}"] += 1
        assert result.status < 500, f"[server_error] {what} answered {result.status}: {result.body}"
        assert result.status in expect, f"[unexpected_answer] {what} answered {result.status}: {result.body}"
        return result

    def merchant_call(self, name: str, merchant: str, expect: tuple[int, ...], **kwargs: Any) -> HttpResult:
        return self.call(as_merchant(name, merchant, user=f"user-{merchant}", **kwargs), expect, name)

    def reviewer_decision(
        self, listing_id: str, decision: str, expect: tuple[int, ...], merchant: str | None = None
    ) -> HttpResult:
        event = api_event(
            "listing_review_decide",
            user=REVIEWER,
            groups=("reviewer", "merchant") if merchant else ("reviewer",),
            body={"decision": decision, "note": "model"},
            path_params={"listing_id": listing_id},
        )
        if merchant:
            event["requestContext"]["authorizer"]["claims"]["custom:merchant_id"] = merchant
        return self.call(event, expect, f"decide {decision}")

    def _item(self, pk: str, sk: str) -> dict[str, Any] | None:
        from orders.dal.dynamo import from_item

        item = self.w.ddb.get_item(
            TableName="OrdersTable", Key={"PK": {"S": pk}, "SK": {"S": sk}}, ConsistentRead=True
        ).get("Item")
        return from_item(item) if item else None

    def listing_item(self, model: ListingModel) -> dict[str, Any]:
        item = self._item(f"MERCHANT#{model.merchant}", f"LISTING#{model.listing_id}")
        assert item is not None, f"[listing_lost] {model.listing_id}"
        return item

    @staticmethod
    def pick(items: list[ListingModel], index: int) -> ListingModel:
        return items[index % len(items)]

    def open_listing(self, sku: str) -> ListingModel | None:
        for model in self.listings:
            if model.sku == sku and model.final is None:
                return model
        return None

    def body_of(self, sku: str, name: str, category: int, **extra: Any) -> dict[str, Any]:
        return {
            "sku": sku,
            "kind": "physical",
            "price": 1200,
            "currency": "USD",
            "name": name,
            "description": DESCRIPTIONS[0],
            "category": self.categories[category],
            "tags": ["wool"],
            "images": IMAGES,
            **extra,
        }

    def settle(self) -> None:
        """Every open listing's workflow waits for a reviewer (its token stored) or has ended."""
        deadline = time.monotonic() + 30
        for model in self.listings:
            while model.final is None:
                item = self.listing_item(model)
                if item["status"] != "PENDING_REVIEW":
                    self.record_final(model, item)
                    break
                if item.get("task_token"):
                    model.token = item["task_token"]
                    break
                assert time.monotonic() < deadline, f"[workflow_stuck] {model.listing_id} has no task token"
                time.sleep(0.02)

    def record_final(self, model: ListingModel, item: dict[str, Any]) -> None:
        model.final = (item["status"], item["version"], item.get("decided_by"))
        self.w.coverage[f"listing {item['status']} {item.get('reason_code')}"] += 1

    def wait_ended(self, model: ListingModel) -> None:
        arn = self.w.flows.execution_arn(SM, model.listing_id)
        with contextlib.suppress(self.w.flows.sfn.exceptions.ExecutionDoesNotExist):
            self.w.flows.wait(arn, timeout=30)

    # --- rules: merchants ------------------------------------------------------------------------
    @initialize(name=st.sampled_from(NAMES), long=st.booleans())
    def a_shop_with_a_product_and_a_listing(self, name: str, long: bool) -> None:
        """Every history starts with ops' product of merchant A (sku 0) and A's proposed product (sku 1)."""
        self.ops_create_a_product(0, 0, LONG_X if long else name)
        self.merchant_proposes_a_product(0, 1, name, 0, DESCRIPTIONS[0], 1300)

    @rule(
        merchant=st.integers(0, 1),
        sku=st.integers(0, 2),
        name=st.sampled_from(NAMES),
        category=st.integers(0, 1),
        description=st.sampled_from(DESCRIPTIONS[:2] * 2 + DESCRIPTIONS[2:]),
        price=st.sampled_from([1300, 1300, 50, 20]),
    )
    def merchant_proposes_a_product(
        self, merchant: int, sku: int, name: str, category: int, description: str, price: int
    ) -> None:
        m, s = self.merchants[merchant], self.skus[sku]
        body = self.body_of(s, name, category, description=description, price=price)
        # With the sku's lock held, a proposal the automatic checks refuse is still answered (AUTO_REJECTED):
        # it never takes the lock, so it changes nothing.
        expect = (409,) if s in self.products else (409, 202) if self.open_listing(s) else (202,)
        result = self.merchant_call("merchant_propose_product", m, expect, body=body)
        self.touched.add(s)
        if result.status == 202 and self.open_listing(s):
            assert result.body["status"] == "AUTO_REJECTED", f"[second_open_listing] {result.body}"
        if result.status == 202:
            self.submitted(ListingModel(result.body["listing_id"], m, s, "CREATE", result.body["changes"]))
        elif s in self.products:
            assert result.body["code"] == "PRODUCT_EXISTS", result.body
        else:
            assert result.body["code"] == "LISTING_ALREADY_OPEN", result.body

    @rule(
        merchant=st.integers(0, 1),
        sku=st.integers(0, 2),
        name=st.sampled_from([None, *NAMES, LONG_X, LONG_Y]),
        category=st.sampled_from([None, 0, 1]),
        other=st.fixed_dictionaries(
            {},
            optional={
                "description": st.sampled_from(DESCRIPTIONS),
                "price": st.sampled_from(PRICES),
                "tags": st.sampled_from(TAGS),
                "active": st.booleans(),
            },
        ),
    )
    def merchant_proposes_a_change(
        self, merchant: int, sku: int, name: str | None, category: int | None, other: dict[str, Any]
    ) -> None:
        m, s = self.merchants[merchant], self.skus[sku]
        changes = dict(other)
        if name is not None:
            changes["name"] = name
        if category is not None:
            changes["category"] = self.categories[category]
        if not changes:
            changes["price"] = 1250
        mine = self.products.get(s, {}).get("merchant_id") == m
        expect = ((409, 202) if self.open_listing(s) else (202,)) if mine else (404,)
        result = self.merchant_call("merchant_propose_change", m, expect, body=changes, path_params={"sku": s})
        self.touched.add(s)
        if result.status == 202 and self.open_listing(s):
            assert result.body["status"] == "AUTO_REJECTED", f"[second_open_listing] {result.body}"
        if result.status == 202:
            self.submitted(ListingModel(result.body["listing_id"], m, s, "UPDATE", result.body["changes"]))
        elif result.status == 404:
            assert result.body["code"] == "PRODUCT_NOT_FOUND", result.body

    @rule(merchant=st.integers(0, 1), sku=st.integers(0, 2), hostile=st.sampled_from(sorted(HOSTILE)))
    def merchant_sends_something_hostile(self, merchant: int, sku: int, hostile: str) -> None:
        route, extra, status = HOSTILE[hostile]
        m, s = self.merchants[merchant], self.skus[sku]
        if route == "propose":
            self.merchant_call("merchant_propose_product", m, (status,), body=self.body_of(s, "Wool Scarf", 0) | extra)
        elif route == "change":
            if self.products.get(s, {}).get("merchant_id") != m:
                return  # another merchant's product is 404 before its body is read (merchant_proposes_a_change)
            self.merchant_call("merchant_propose_change", m, (status,), body=extra, path_params={"sku": s})
        else:
            for claim in (None, "platform", "North Loom"):
                event = as_merchant("merchant_propose_product", claim, body=self.body_of(s, "Wool Scarf", 0))
                self.call(event, (status,), "unlinked merchant")

    # --- rules: reviewers and the workflow -------------------------------------------------------
    @precondition(lambda self: self.listings)
    @rule(index=st.integers(0, 99), decision=st.sampled_from(["approve", "reject"]), twice=st.booleans())
    def reviewer_decides(self, index: int, decision: str, twice: bool) -> None:
        # Mostly listings waiting for a reviewer; sometimes a decided one (a late or repeated decision).
        waiting = [m for m in self.listings if m.final is None]
        model = self.pick(waiting if waiting and index % 4 else self.listings, index)
        self.touched.add(model.sku)
        if model.final is not None:
            result = self.reviewer_decision(model.listing_id, decision, (409,))
            expected = "LISTING_REVIEW_EXPIRED" if model.final[2] == "system:timeout" else "LISTING_ALREADY_DECIDED"
            assert result.body["code"] == expected, result.body
            return
        result = self.reviewer_decision(model.listing_id, decision, (200,))
        product = self.products.get(model.sku)
        if decision == "approve":
            fits = (
                product is None
                if model.kind == "CREATE"
                else bool(product and product["merchant_id"] == model.merchant)
            )
            got = (result.body["status"], result.body.get("reason_code"))
            assert got == (("APPROVED", None) if fits else ("REJECTED", "PRODUCT_CHANGED")), (
                f"[approval_outcome] {model.listing_id} ({model.kind}) answered {got}; product {product}"
            )
            if fits:
                self.apply(model)
        else:
            assert result.body["status"] == "REJECTED", result.body
        self.record_final(model, self.listing_item(model))
        self.wait_ended(model)
        if twice:  # a retry of the same request, or the other decision
            self.reviewer_decision(model.listing_id, decision, (409,))
            self.reviewer_decision(model.listing_id, "reject" if decision == "approve" else "approve", (409,))

    def apply(self, model: ListingModel) -> None:
        if model.kind == "CREATE":
            changes = model.changes
            self.products[model.sku] = {name: changes.get(name) for name in PRODUCT_FIELDS} | {
                "merchant_id": model.merchant,
                "active": changes.get("active", True),
                "tags": changes.get("tags", []),
            }
        else:
            self.products[model.sku] |= model.changes

    def submitted(self, model: ListingModel) -> None:
        self.listings.append(model)
        item = self.listing_item(model)
        if item["status"] != "PENDING_REVIEW":  # refused by the automatic checks: closed at once, no lock
            self.record_final(model, item)

    @precondition(lambda self: self.listings)
    @rule(index=st.integers(0, 99))
    def the_workflow_breaks(self, index: int) -> None:
        """The wait for a reviewer fails (SendTaskFailure names an error and, optionally, no cause): FAILED."""
        model = self.listings[index % len(self.listings)]
        if model.final is not None or model.token is None:
            return
        self.w.flows.sfn.send_task_failure(taskToken=model.token, error="ReviewToolCrashed")
        self.wait_ended(model)
        item = self.listing_item(model)
        assert item["status"] == "FAILED", f"[failure_not_recorded] {model.listing_id} is {item['status']}"
        self.record_final(model, item)

    @precondition(lambda self: self.listings)
    @rule(index=st.integers(0, 99))
    def reviewer_of_the_same_shop_decides(self, index: int) -> None:
        model = self.listings[index % len(self.listings)]
        result = self.reviewer_decision(model.listing_id, "approve", (403,), merchant=model.merchant)
        assert result.body["code"] == "OWN_LISTING_REVIEW", result.body

    @precondition(lambda self: self.listings)
    @rule(index=st.integers(0, 99))
    def review_deadline_passes(self, index: int) -> None:
        """The wait for a reviewer times out (the state machine's TimeoutSeconds, as Step Functions reports it)."""
        model = self.listings[index % len(self.listings)]
        if model.final is not None or model.token is None:
            return
        # moto's executor refuses a States.* error from send_task_failure, so the deadline is what the state
        # machine runs then: the worker's record_timeout step (the real handler); the wait then ends.
        self.w.runtime.invoke("ListingWorkerFunction", {"action": "record_timeout", "listing_id": model.listing_id})
        with contextlib.suppress(Exception):
            self.w.flows.sfn.send_task_failure(taskToken=model.token, error="ReviewDeadline", cause="deadline")
        self.wait_ended(model)
        item = self.listing_item(model)
        got = (item["status"], item.get("reason_code"), item.get("decided_by"))
        assert got == ("REJECTED", "REVIEW_TIMED_OUT", "system:timeout"), f"[timeout_action] {got}"
        self.record_final(model, item)

    @precondition(lambda self: self.listings)
    @rule(index=st.integers(0, 99), decision=st.sampled_from(["approve", "reject"]))
    def stale_task_token_is_replayed(self, index: int, decision: str) -> None:
        """Someone resumes a decided listing's workflow with the token it had: refused, nothing changes."""
        model = self.listings[index % len(self.listings)]
        if model.final is None or model.token is None:
            return
        sfn = self.w.flows.sfn
        try:
            sfn.send_task_success(taskToken=model.token, output=json.dumps({"decision": decision}))
        except (sfn.exceptions.InvalidToken, sfn.exceptions.TaskTimedOut, sfn.exceptions.TaskDoesNotExist):
            self.w.coverage["stale token refused"] += 1
            return
        raise AssertionError(f"[stale_token_accepted] {model.listing_id} was decided, its workflow still waited")

    # --- rules: ops, behind the merchants' backs ---------------------------------------------------
    @rule(sku=st.integers(0, 2), merchant=st.integers(0, 1), name=st.sampled_from(NAMES))
    def ops_create_a_product_rule(self, sku: int, merchant: int, name: str) -> None:
        self.ops_create_a_product(sku, merchant, name)

    def ops_create_a_product(self, sku: int, merchant: int, name: str) -> None:
        s = self.skus[sku]
        body = self.body_of(s, name, 0, merchant_id=self.merchants[merchant])
        body.pop("images")
        event = api_event("catalog_admin_create_product", user=OPS, groups=("ops",), body=body)
        result = self.call(event, (409,) if s in self.products else (201,), "ops create")
        self.touched.add(s)
        if result.status == 201:
            self.products[s] = {name: body.get(name) for name in PRODUCT_FIELDS} | {"active": True, "images": []}

    @rule(
        sku=st.integers(0, 2),
        change=st.sampled_from(["price", "hide", "show", "hand over", "rename", "long rename", "recategorise"]),
    )
    def ops_edit_a_product(self, sku: int, change: str) -> None:
        s = self.skus[sku]
        product = self.products.get(s)
        bodies: dict[str, dict[str, Any]] = {
            "price": {"price": 777},
            "hide": {"active": False},
            "show": {"active": True},
            "hand over": {
                "merchant_id": self.merchants[0]
                if product and product["merchant_id"] != self.merchants[0]
                else self.merchants[1]
            },
            "rename": {"name": "Ops Renamed Mug"},
            "long rename": {"name": LONG_Y if product and product["name"] == LONG_X else LONG_X},
            "recategorise": {
                "category": self.categories[1]
                if product and product["category"] == self.categories[0]
                else self.categories[0]
            },
        }
        body = bodies[change]
        event = api_event("catalog_admin_update_product", user=OPS, groups=("ops",), body=body, path_params={"sku": s})
        self.call(event, (200,) if product else (404,), "ops edit")
        self.touched.add(s)
        if product:
            product |= body

    # --- invariants ------------------------------------------------------------------------------
    @invariant()
    def histories_hold(self) -> None:
        self.settle()
        self.w.steps += 1
        self.check_listings()
        self.check_catalog()
        self.check_index()
        self.check_reads()
        self.touched.clear()

    def check_listings(self) -> None:
        from orders.dal.dynamo import from_item

        for merchant in self.merchants:
            stored = [
                from_item(i)
                for i in self.w.ddb.query(
                    TableName="OrdersTable",
                    KeyConditionExpression="PK = :pk AND begins_with(SK, :p)",
                    ExpressionAttributeValues={":pk": {"S": f"MERCHANT#{merchant}"}, ":p": {"S": "LISTING#"}},
                    ConsistentRead=True,
                )["Items"]
            ]
            mine = {m.listing_id for m in self.listings if m.merchant == merchant}
            got = {i["listing_id"] for i in stored}
            assert got == mine, f"[listings_mismatch] {merchant}: stored {got - mine} extra, {mine - got} missing"
        for model in self.listings:
            item = self.listing_item(model)
            if model.final is not None:
                now = (item["status"], item["version"], item.get("decided_by"))
                assert now == model.final, f"[decided_twice] {model.listing_id}: {model.final} then {now}"
                assert "task_token" not in item and "GSI3PK" not in item, f"[decided_still_queued] {item}"
            else:
                assert item["status"] == "PENDING_REVIEW", item
        for sku in self.skus:
            lock = self._item(f"LISTING_SKU#{sku}", "OPEN")
            open_ = self.open_listing(sku)
            assert (lock is not None) == (open_ is not None), f"[sku_lock] {sku}: lock {lock}, open listing {open_}"

    def check_catalog(self) -> None:
        from orders.dal.dynamo import from_item

        for sku in self.skus:
            item = self.w.ddb.get_item(TableName="CatalogTable", Key={"sku": {"S": sku}}, ConsistentRead=True).get(
                "Item"
            )
            expected = self.products.get(sku)
            if expected is None:
                assert item is None, f"[catalog_changed] {sku} exists, no accepted write created it: {from_item(item)}"
                continue
            assert item is not None, f"[catalog_lost] {sku}"
            stored = from_item(item)
            got = {name: stored.get(name, [] if name in ("tags", "images") else None) for name in PRODUCT_FIELDS}
            assert got == expected, f"[catalog_mismatch] {sku}: stored {got}, last accepted write {expected}"

    def check_index(self) -> None:
        """The whole catalog's index against its products (docs/search.md)."""
        from orders.dal.dynamo import from_item
        from orders.logic.search import MAX_INDEXED_TOKENS, index_entry, tokenize
        from orders.models.catalog import Product

        items = [from_item(i) for i in self.w.ddb.scan(TableName="CatalogTable", ConsistentRead=True)["Items"]]
        products = {i["sku"]: i for i in items if not i["sku"].startswith("#")}
        counters = {i["sku"][len("#CAT#") :]: i["products"] for i in items if i["sku"].startswith("#CAT#")}
        tokens = [i for i in items if i["sku"].startswith("#TOK#")]
        listed: Counter[str] = Counter()
        for sku, data in products.items():
            product = Product.model_validate(data)
            if data.get("index_rev") is None:
                continue  # stored before the index: not listed until reindexed
            entry = index_entry(product)
            if entry.listed:
                listed[product.category] += 1
                assert data.get("search_pk") == f"CAT#{product.category}", f"[not_browsable] {sku}: {data}"
                assert set(data.get("indexed_tokens") or ()) == set(entry.tokens), f"[index_state] {sku}"
                name_tokens = set(tokenize(product.name))
                full = len(entry.tokens) == MAX_INDEXED_TOKENS
                assert name_tokens <= set(entry.tokens) or full, f"[name_not_indexed] {sku}"
            else:
                assert "search_pk" not in data and not data.get("indexed_tokens"), f"[hidden_browsable] {sku}"
        held: dict[str, set[str]] = {}
        for token_item in tokens:
            sku = token_item["product"]
            token = token_item["search_pk"][len("TOK#") :]
            product_data = products.get(sku)
            assert product_data is not None, f"[stale_token] {token_item['sku']} names a missing product"
            assert token in (product_data.get("indexed_tokens") or ()), f"[stale_token] {token_item['sku']}"
            assert token_item["category"] == product_data["category"], f"[stale_token_category] {token_item}"
            assert set(token_item["tokens"]) == set(product_data["indexed_tokens"]), f"[stale_token_set] {token_item}"
            held.setdefault(sku, set()).add(token)
        for sku, data in products.items():
            assert held.get(sku, set()) == set(data.get("indexed_tokens") or ()), f"[missing_token_items] {sku}"
        for category in set(counters) | set(listed):
            assert counters.get(category, 0) == listed[category], (
                f"[category_counter] {category}: counter {counters.get(category)}, listed {listed[category]}"
            )
        self.listed = listed

    def check_reads(self) -> None:
        for merchant in self.merchants:
            page = self.merchant_call("merchant_list_listings", merchant, (200,), query={"limit": "100"})
            got = {item["listing_id"] for item in page.body["items"]}
            mine = {m.listing_id for m in self.listings if m.merchant == merchant}
            assert got == mine, f"[merchant_listings] {merchant} reads {got}, submitted {mine}"
        categories = self.call(api_event("catalog_list_categories", user=None), (200,), "categories").body["items"]
        counted = {c["category"]: c["products"] for c in categories}
        for category in self.categories:
            assert counted.get(category, 0) == self.listed[category], f"[categories_read] {category}: {counted}"
        for sku in sorted(self.touched & set(self.products)):
            product = self.products[sku]
            query = {"q": " ".join(product["name"].split()[:8]), "limit": "100"}
            result = self.call(api_event("catalog_list_products", user=None, query=query), (200, 422), "search")
            if result.status == 422:
                continue  # a name with no searchable word ("a")
            found = sku in {p["sku"] for p in result.body["items"]}
            assert found == product["active"], f"[search] {query['q']!r} finds {sku}: {found}, listed {product}"

    def teardown(self) -> None:
        """End workflows still waiting for a reviewer, so none outlives its history."""
        for model in self.listings:
            if model.final is None and model.token:
                with contextlib.suppress(Exception):
                    self.w.flows.sfn.send_task_failure(taskToken=model.token, error="HistoryEnded")
        for model in self.listings:
            with contextlib.suppress(Exception):
                self.wait_ended(model)


# --- regressions: histories the model found, kept as plain tests ---------------------------------------
def test_a_review_that_fails_without_a_cause_closes_the_listing_as_failed(api: Api, flows: Workflows, ddb: Any) -> None:
    """Found by the model: SendTaskFailure without a cause (optional in the API) reached the worker as
    ``"Cause": null``, MarkFailed refused it, and the listing stayed PENDING_REVIEW for good, holding its sku."""
    # Given a listing waiting for a reviewer
    listing = propose(api, SCARF).body
    awaiting_review(api, listing["listing_id"])
    key = {"PK": {"S": f"MERCHANT#{NORTH}"}, "SK": {"S": f"LISTING#{listing['listing_id']}"}}
    token = ddb.get_item(TableName="OrdersTable", Key=key)["Item"]["task_token"]["S"]
    # When the wait fails with an error and no cause
    flows.sfn.send_task_failure(taskToken=token, error="ReviewToolCrashed")
    flows.wait(flows.execution_arn(SM, listing["listing_id"]))
    # Then the listing is FAILED with the error as its cause, and the sku is free to list again
    (final,) = listings_of(api, NORTH)
    assert (final["status"], final["failure_cause"]) == ("FAILED", "ReviewToolCrashed:")
    assert propose(api, SCARF).body["status"] == "PENDING_REVIEW"


def test_a_change_that_renames_and_moves_a_fully_indexed_product_can_be_approved(
    api: Api, flows: Workflows, ddb: Any
) -> None:
    """Found by the model: a product indexed by the most tokens, renamed to as many new ones and moved to
    another category, made a transaction of 101 items with the listing's two (DynamoDB takes 100)."""
    # Given north-loom's product named with 50 words, in the kitchen
    product = SCARF | {"sku": "long-name", "name": LONG_X, "merchant_id": NORTH, "category": "kitchen"}
    product.pop("images")
    created = api(api_event("catalog_admin_create_product", user=OPS, groups=("ops",), body=product))
    assert created.status == 201, created.body
    # And a change under review that renames it to 50 other words and moves it to apparel
    body = {"name": LONG_Y, "category": "apparel"}
    listing = api(as_merchant("merchant_propose_change", NORTH, body=body, path_params={"sku": "long-name"})).body
    awaiting_review(api, listing["listing_id"])
    # When a reviewer approves it
    decided = api(
        api_event(
            "listing_review_decide",
            user=REVIEWER,
            groups=("reviewer",),
            body={"decision": "approve"},
            path_params={"listing_id": listing["listing_id"]},
        )
    )
    # Then it is live, found by its new name only, and counted in its new category
    assert (decided.status, decided.body.get("status")) == (200, "APPROVED"), decided.body
    found = api(api_event("catalog_list_products", user=None, query={"q": "y00 y01"})).body["items"]
    assert [p["sku"] for p in found] == ["long-name"]
    assert api(api_event("catalog_list_products", user=None, query={"q": "x00"})).body["items"] == []


def test_random_listing_histories_keep_the_catalog_and_its_index_right(runtime: LambdaRuntime) -> None:
    with world(runtime) as w:
        try:
            run_model(ListingsMachine, BUDGET, w)
        finally:
            w.report("listings")
