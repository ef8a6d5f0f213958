"""Categories and keyword search: GET /products?category=&q=&limit=&cursor=, GET /categories (issue 17).

The seeded catalog (local_stack/catalog.json) is created through the same write path as POST /products.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import chain
from typing import Any
from urllib.parse import quote

import pytest

from tests.conftest import api_event
from tests.integration.conftest import SEED, Api

OPS: dict[str, Any] = {"user": "ops-1", "groups": ("ops",)}


def product(sku: str, name: str, *, category: str = "garden", **extra: Any) -> dict[str, Any]:
    return {"sku": sku, "name": name, "kind": "virtual", "price": 100, "currency": "USD", "category": category} | extra


def create(api: Api, body: dict[str, Any]) -> None:
    response = api(api_event("catalog_admin_create_product", body=body, **OPS))
    assert response.status == 201, response.body


def update(api: Api, sku: str, body: dict[str, Any]) -> Any:
    response = api(api_event("catalog_admin_update_product", path_params={"sku": sku}, body=body, **OPS))
    assert response.status == 200, response.body
    return response.body


def products(api: Api, **query: str) -> Any:
    return api(api_event("catalog_list_products", user=None, query=query))


def found(api: Api, q: str, **query: str) -> list[str]:
    response = products(api, q=q, **query)
    assert response.status == 200, response.body
    assert response.body["next_cursor"] is None
    return [item["sku"] for item in response.body["items"]]


def every_page(api: Api, **query: str) -> Iterator[list[str]]:
    cursor: str | None = None
    while True:
        response = products(api, **query, **({"cursor": cursor} if cursor else {}))
        assert response.status == 200, response.body
        yield [item["sku"] for item in response.body["items"]]
        cursor = response.body["next_cursor"]
        if cursor is None:
            return


def categories(api: Api) -> dict[str, int]:
    response = api(api_event("catalog_list_categories", user=None))
    assert response.status == 200, response.body
    return {entry["category"]: entry["products"] for entry in response.body["items"]}


# --- browse ------------------------------------------------------------------------------------------
def test_a_category_is_paged_in_name_order_with_the_cursor(api: Api) -> None:
    # Given five products in one category, created out of name order
    for sku, name in [("g-e", "Erica"), ("g-a", "Aster"), ("g-d", "Dahlia"), ("g-b", "Begonia"), ("g-c", "Crocus")]:
        create(api, product(sku, name))
    create(api, product("k-1", "Kettle", category="kitchen-tools"))
    # When the category is read two at a time
    pages = list(every_page(api, category="garden", limit="2"))
    # Then the pages hold every product of the category once, in name order, and nothing else
    assert pages[:3] == [["g-a", "g-b"], ["g-c", "g-d"], ["g-e"]]
    assert list(chain.from_iterable(pages)) == ["g-a", "g-b", "g-c", "g-d", "g-e"]


def test_without_a_category_every_listed_product_is_paged_category_by_category(api: Api) -> None:
    # Given the seeded catalog (one inactive product) and no filter
    # When every page is read, three at a time
    pages = list(every_page(api, limit="3"))
    # Then each listed product comes once and the inactive one never
    skus = list(chain.from_iterable(pages))
    assert sorted(skus) == sorted(p["sku"] for p in SEED if p["active"])
    assert len(skus) == len(set(skus))
    assert all(len(page) <= 3 for page in pages)


def test_an_unknown_category_is_an_empty_page(api: Api) -> None:
    assert products(api, category="no-such-shelf").body == {"items": [], "next_cursor": None}


# --- search ------------------------------------------------------------------------------------------
def test_every_word_of_a_query_must_match(api: Api) -> None:
    # Given the seeded logo tee and logo hoodie
    # When shoppers search one word, then two
    # Then one word finds both, two words only the product having both
    assert found(api, "logo") == ["hoodie-logo-l", "tshirt-logo-m"]
    assert found(api, "logo hoodie") == ["hoodie-logo-l"]
    assert found(api, "hoodie logo") == ["hoodie-logo-l"]
    assert found(api, "logo mug") == []


def test_search_ignores_case_accents_and_punctuation(api: Api) -> None:
    # Given the seeded "Crème Brûlée Set", "Café au Lait Bowl" and the tea cup described as "Café-style"
    # When searched without accents, in capitals, with punctuation
    # Then the same products are found
    assert found(api, "CREME brulee") == ["creme-brulee-set"]
    assert found(api, "crème, BRÛLÉE!") == ["creme-brulee-set"]
    assert found(api, "cafe") == ["cafe-au-lait-bowl", "tea-cup-jingdezhen"]
    assert found(api, "Café STYLE") == ["tea-cup-jingdezhen"]
    assert found(api, "T-SHIRT") == ["tshirt-logo-m"]  # "shirt" from the name and the tag "t-shirt"


def test_chinese_is_found_by_character_bigrams(api: Api) -> None:
    # Given the seeded 景德镇 青花瓷 茶杯
    # When searched by a word inside the name, by two words, and by a phrase the name does not have
    # Then bigrams match across word boundaries only where the characters are adjacent
    assert found(api, "青花瓷") == ["tea-cup-jingdezhen"]
    assert found(api, "茶杯") == ["tea-cup-jingdezhen"]
    assert found(api, "景德镇 茶杯") == ["tea-cup-jingdezhen"]
    assert found(api, "花茶") == []
    assert found(api, "绿茶 礼盒") == found(api, "龙井 礼盒") == ["longjing-tea-gift"]


def test_tags_and_description_are_searched_and_a_category_narrows(api: Api) -> None:
    # Given products sharing a tag in two categories
    create(api, product("bulbs", "Tulip bulbs", tags=["spring"]))
    create(api, product("jacket", "Light jacket", category="apparel", description="For a cool spring evening"))
    # When searched by the shared word, with and without a category
    # Then the category keeps only its products
    assert found(api, "spring") == ["bulbs", "jacket"]
    assert found(api, "spring", category="apparel") == ["jacket"]


def test_search_results_are_paged_with_the_cursor(api: Api) -> None:
    # Given five products sharing a word, and four sharing two words
    for n in range(5):
        create(api, product(f"lantern-{n}", f"Lantern {'paper' if n else 'brass'} {n}"))
    # When read two at a time, for one word and for two
    # Then every match comes once, in sku order
    assert list(chain.from_iterable(every_page(api, q="lantern", limit="2"))) == [f"lantern-{n}" for n in range(5)]
    both = list(chain.from_iterable(every_page(api, q="paper lantern", limit="2")))
    assert both == [f"lantern-{n}" for n in range(1, 5)]


def test_an_update_removes_the_stale_words(api: Api, ddb: Any) -> None:
    # Given a product found by its name
    create(api, product("kite", "Dragon kite", tags=["summer"]))
    assert found(api, "dragon") == ["kite"]
    # When ops rename it and change its tags
    update(api, "kite", {"name": "Phoenix kite", "tags": ["winter"]})
    # Then the old words find nothing, the new ones find it, and no index item is left for the old words
    assert (found(api, "dragon"), found(api, "summer")) == ([], [])
    assert found(api, "phoenix kite winter") == ["kite"]
    for token in ("dragon", "summer"):
        assert "Item" not in ddb.get_item(TableName="CatalogTable", Key={"sku": {"S": f"#TOK#{token}#kite"}})


def test_of_two_admin_writes_from_the_same_read_the_second_is_refused_and_the_index_follows_the_first(
    api: Api, ddb: Any
) -> None:
    from orders.dal.catalog import CatalogRepository
    from orders.errors import ConcurrentModification
    from orders.logic.search import index_entry

    # Given a product, and a writer that read it (with its index state) before another writer renamed it
    create(api, product("kite", "Dragon kite"))
    repository = CatalogRepository("CatalogTable", client=ddb)
    read = repository.get_with_state("kite")
    assert read is not None
    stale_product, stale_state = read
    update(api, "kite", {"name": "Phoenix kite"})
    # When the first writer writes what it decided from its read
    late = stale_product.model_copy(update={"name": "Griffin kite"})
    with pytest.raises(ConcurrentModification):
        repository.update("kite", {"name": "Griffin kite"}, index_entry(late), stale_state)
    # Then nothing of it is written: the name and the index are the winner's
    assert products(api, q="kite").body["items"][0]["name"] == "Phoenix kite"
    assert (found(api, "phoenix"), found(api, "griffin"), found(api, "dragon")) == (["kite"], [], [])


def test_hidden_products_are_never_found(api: Api) -> None:
    # Given the seeded inactive "Starter Pack 2019" and an active kite
    create(api, product("kite", "Dragon kite"))
    assert found(api, "starter pack") == []
    # When ops hide the kite
    update(api, "kite", {"active": False})
    # Then neither search nor its category shows it; shown again once it is back on sale
    assert found(api, "dragon") == []
    assert products(api, category="garden").body["items"] == []
    update(api, "kite", {"active": True})
    assert found(api, "dragon") == ["kite"]


def test_a_price_change_shows_in_search_results_at_once(api: Api) -> None:
    update(api, "mug-classic", {"price": 1350})
    assert [item["price"] for item in products(api, q="mug").body["items"]] == [1350]


# --- categories ----------------------------------------------------------------------------------------
def test_categories_count_listed_products_through_create_hide_and_category_change(api: Api) -> None:
    # Given the seeded catalog: its listed products by category
    seeded: dict[str, int] = {}
    for item in SEED:
        if item["active"]:
            seeded[item["category"]] = seeded.get(item["category"], 0) + 1
    assert categories(api) == seeded
    # When ops add two garden products, move one to kitchen, hide a mug, and make a price change
    create(api, product("rake", "Rake"))
    create(api, product("hoe", "Hoe"))
    update(api, "hoe", {"category": "kitchen"})
    update(api, "mug-classic", {"active": False})
    update(api, "rake", {"price": 300})
    # Then the counts follow, and an emptied category is no longer listed
    assert categories(api) == seeded | {"garden": 1, "kitchen": seeded["kitchen"]}
    update(api, "rake", {"category": "kitchen"})
    assert "garden" not in categories(api)
    assert categories(api)["kitchen"] == seeded["kitchen"] + 1
    # And the moved product is browsed and searched in its new category only
    assert "hoe" in [item["sku"] for item in products(api, category="kitchen").body["items"]]
    assert found(api, "hoe", category="garden") == []
    assert found(api, "hoe", category="kitchen") == ["hoe"]


# --- never a Scan ----------------------------------------------------------------------------------------
def test_browse_search_and_categories_never_scan(api: Api) -> None:
    from orders.dal.dynamo import dynamodb_client

    # Given a hook counting every DynamoDB operation the catalog function sends
    operations: list[str] = []

    def count(model: Any, **_: Any) -> None:
        operations.append(model.name)

    dynamodb_client().meta.events.register("before-call.dynamodb", count)
    # When a shopper browses, searches (one word, two words, in a category) and reads the categories
    products(api)
    products(api, category="apparel", limit="1")
    found(api, "logo")
    found(api, "logo hoodie", category="apparel")
    categories(api)
    # Then every read is a Query (plus the page's BatchGetItem), never a Scan
    assert operations
    assert "Scan" not in operations
    assert set(operations) == {"Query", "BatchGetItem"}


# --- bad input ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ({"category": "Kitchen"}, 422, "VALIDATION_ERROR"),
        ({"category": "kitchen tools"}, 422, "VALIDATION_ERROR"),
        ({"category": "k" * 41}, 422, "VALIDATION_ERROR"),
        ({"q": ""}, 422, "VALIDATION_ERROR"),
        ({"q": "x" * 201}, 422, "VALIDATION_ERROR"),
        ({"q": "!!! ?"}, 422, "SEARCH_QUERY_EMPTY"),
        ({"q": "a b c"}, 422, "SEARCH_QUERY_EMPTY"),
        ({"q": "one two three four five six seven eight nine"}, 422, "SEARCH_QUERY_TOO_LONG"),
        ({"limit": "0"}, 422, "VALIDATION_ERROR"),
        ({"limit": "101"}, 422, "VALIDATION_ERROR"),
        ({"limit": "ten"}, 422, "VALIDATION_ERROR"),
        ({"cursor": "not-a-cursor"}, 400, "INVALID_CURSOR"),
    ],
)
def test_bad_queries_are_refused_with_a_stable_code(api: Api, query: dict[str, str], status: int, code: str) -> None:
    response = products(api, **query)
    assert (response.status, response.body["code"]) == (status, code)


def test_a_cursor_only_continues_the_query_it_came_from(api: Api) -> None:
    # Given a cursor from the apparel category and one from a search
    category_cursor = products(api, category="apparel", limit="1").body["next_cursor"]
    search_cursor = products(api, q="logo", limit="1").body["next_cursor"]
    assert category_cursor and search_cursor
    # When each is used for another query
    # Then it is refused
    for query in (
        {"category": "kitchen", "cursor": category_cursor},
        {"q": "mug", "cursor": search_cursor},
        {"category": "apparel", "cursor": search_cursor},
        {"cursor": search_cursor},
    ):
        response = products(api, **query)
        assert (response.status, response.body["code"]) == (400, "INVALID_CURSOR"), query


def test_index_items_are_never_read_as_products(api: Api, ddb: Any) -> None:
    from orders.dal.catalog import CatalogRepository

    # Given index items next to the products (a counter and a keyword item of the seeded mug)
    keys = ("#CAT#kitchen", "#TOK#mug#mug-classic")
    assert all("Item" in ddb.get_item(TableName="CatalogTable", Key={"sku": {"S": key}}) for key in keys)
    # When their keys are asked for as skus, over HTTP and by the code that reads products for carts and orders
    repository = CatalogRepository("CatalogTable", client=ddb)
    for key in keys:
        event = api_event("catalog_get_product", path_params={"sku": quote(key, safe="")})
        event["path"], event["pathParameters"] = f"/products/{key}", {"sku": key}
        # Then nothing is found (never a product built from an index item, never a 500)
        assert api(event).status == 404
        assert repository.get(key) is None
    assert repository.get_many([*keys, "mug-classic"]).keys() == {"mug-classic"}


# --- backfill --------------------------------------------------------------------------------------------------
def test_products_stored_before_the_index_are_found_after_the_backfill(
    api: Api, ddb: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from tools import search_backfill

    # Given a product written straight into the table, as before the index existed
    ddb.put_item(
        TableName="CatalogTable",
        Item={
            "sku": {"S": "old-lamp"},
            "name": {"S": "Old brass lamp"},
            "kind": {"S": "virtual"},
            "price": {"N": "700"},
            "currency": {"S": "USD"},
            "active": {"BOOL": True},
        },
    )
    assert found(api, "lamp") == []
    before = categories(api)
    # When the one-off backfill job runs, twice
    assert search_backfill.main(["--table", "CatalogTable"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "indexed 1 product(s) of CatalogTable"
    assert search_backfill.main(["--table", "CatalogTable"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "indexed 0 product(s) of CatalogTable"
    # Then it is found and counted under the default category, and products already indexed were left alone
    assert found(api, "brass lamp") == ["old-lamp"]
    assert categories(api) == before | {"general": before.get("general", 0) + 1}


# --- bulk import -------------------------------------------------------------------------------------------
def test_a_bulk_import_writes_the_same_index_as_creating_one_by_one(api: Api, ddb: Any) -> None:
    from orders.dal.catalog import CatalogRepository
    from orders.logic.search import index_entry
    from orders.models.catalog import Product

    # Given products for two fresh categories, one of them hidden
    bodies = [
        product("imp-1", "Imported lamp", category="imports-a"),
        product("imp-2", "Imported rug", category="imports-a", tags=["wool"]),
        product("imp-3", "Imported vase", category="imports-b", active=False),
    ]
    # When they are bulk-loaded (BatchWriteItem, as bench/search_scale.py fills a catalog)
    loaded = [Product.model_validate(body) for body in bodies]
    written = CatalogRepository("CatalogTable", client=ddb).bulk_load((p, index_entry(p)) for p in loaded)
    # Then browse, search and counts see them as if ops had created them: the hidden one nowhere
    assert written == 3 + 2 + 3 + 1  # products, keyword items ("imported", "lamp" / "imported", "rug", "wool"), counter
    assert found(api, "imported") == ["imp-1", "imp-2"]
    assert found(api, "wool rug") == ["imp-2"]
    assert (categories(api)["imports-a"], "imports-b" in categories(api)) == (2, False)
    # And a later admin change finds a consistent index state to update
    update(api, "imp-1", {"category": "imports-b"})
    assert (categories(api)["imports-a"], categories(api)["imports-b"]) == (1, 1)
