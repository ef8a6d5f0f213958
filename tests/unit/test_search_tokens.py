"""The search tokenizer: what is indexed and what is asked are cut the same way (orders.logic.search)."""

from __future__ import annotations

import pytest

from orders.errors import SearchQueryTooLong, SearchQueryWithoutTerms
from orders.logic.search import (
    MAX_INDEXED_TOKENS,
    MAX_TOKEN_LENGTH,
    by_selectivity,
    index_entry,
    name_key,
    query_terms,
    tokenize,
)
from orders.models.catalog import Product


def product(**fields: object) -> Product:
    return Product.model_validate(
        {"sku": "p-1", "name": "Thing", "kind": "virtual", "price": 100, "currency": "USD"} | fields
    )


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("Crème Brûlée", ["creme", "brulee"]),
        ("CAFÉ café Cafe", ["cafe"]),
        ("Straße", ["strasse"]),
        ("\uff21\uff22\uff23 \uff44\uff45\uff46", ["abc", "def"]),  # full-width forms fold to ASCII
        ("\ufb01ne", ["fine"]),  # the ligature decomposes
        ("Ærøskøbing", ["ærøskøbing"]),  # letters without a decomposition stay (case-folded)
        ("naïve façade", ["naive", "facade"]),
    ],
)
def test_case_and_accents_do_not_matter(text: str, tokens: list[str]) -> None:
    assert tokenize(text) == tokens


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("Logo T-Shirt (M)", ["logo", "shirt"]),  # single letters are dropped
        ("mugs, cups; & saucers!", ["mugs", "cups", "saucers"]),
        ("350 ml / 12oz", ["350", "ml", "12oz"]),
        ("rock'n'roll", ["rock", "roll"]),
        ("...", []),
        ("", []),
        ("a b c", []),
        ("repeat Repeat REPEAT", ["repeat"]),
    ],
)
def test_punctuation_separates_words(text: str, tokens: list[str]) -> None:
    assert tokenize(text) == tokens


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("青花瓷", ["青花", "花瓷"]),
        ("景德镇 青花瓷 茶杯", ["景德", "德镇", "青花", "花瓷", "茶杯"]),
        ("茶", ["茶"]),  # a lone character is its own token
        ("手工青花瓷茶杯", ["手工", "工青", "青花", "花瓷", "瓷茶", "茶杯"]),
        ("茶杯200ml", ["茶杯", "200ml"]),  # a script change ends a run
        ("绿茶\uff0c红茶\u3002", ["绿茶", "红茶"]),  # CJK punctuation separates
        ("カタカナ", ["カタ", "タカ", "カナ"]),
    ],
)
def test_chinese_and_other_cjk_text_is_cut_into_character_bigrams(text: str, tokens: list[str]) -> None:
    assert tokenize(text) == tokens


def test_long_words_are_cut_the_same_way_when_indexed_and_asked() -> None:
    word = "x" * (MAX_TOKEN_LENGTH + 10)
    assert tokenize(word) == ["x" * MAX_TOKEN_LENGTH] == query_terms(word.upper())


def test_a_product_is_indexed_by_name_then_tags_then_description_within_the_limit() -> None:
    description = " ".join(f"word{n}" for n in range(100))
    entry = index_entry(product(name="Blue Kettle", tags=["steel", "kettle"], description=description))
    assert entry.listed and entry.category == "general"
    assert entry.tokens[:3] == ("blue", "kettle", "steel")
    assert len(entry.tokens) == MAX_INDEXED_TOKENS
    assert entry.name_key == "blue kettle"


def test_a_hidden_product_has_no_index_entry() -> None:
    entry = index_entry(product(active=False))
    assert (entry.listed, entry.tokens) == (False, ())


def test_names_sort_without_case_or_accents() -> None:
    assert sorted(["Zebra", "éclair", "Apple"], key=name_key) == ["Apple", "éclair", "Zebra"]


def test_a_query_needs_at_least_one_word_and_at_most_eight() -> None:
    with pytest.raises(SearchQueryWithoutTerms):
        query_terms("- ? !")
    with pytest.raises(SearchQueryTooLong):
        query_terms("aa bb cc dd ee ff gg hh ii")
    assert query_terms("aa bb cc dd ee ff gg hh") == ["aa", "bb", "cc", "dd", "ee", "ff", "gg", "hh"]


def test_the_longest_word_is_read_first() -> None:
    assert by_selectivity(["red", "hoodie", "xl"]) == ["hoodie", "red", "xl"]
    assert by_selectivity(["青花", "花瓷"]) == ["青花", "花瓷"]
