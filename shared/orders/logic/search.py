"""Categories and keyword search over the catalog: tokens, the index entry of a product, and the search port.

Tokens (the same function for what is indexed and for what is asked):
- text is NFKD-normalised, its combining marks dropped and case-folded, so ``Café``, ``CAFÉ`` and ``cafe``
  are one token, full-width letters are ASCII and ``Straße`` is ``strasse``;
- a run of letters/digits outside the CJK scripts is one token if it has at least 2 characters
  (``t-shirt`` → ``shirt``: a lone letter matches too much to be worth an index partition);
- a run of CJK characters (Han, kana, Hangul) gives its overlapping character bigrams
  (``青花瓷`` → ``青花``, ``花瓷``); a run of one CJK character is that character;
- tokens are cut at ``MAX_TOKEN_LENGTH`` characters (indexed and asked the same way).

Search keeps no per-token counts (they would add a counter write per token to every product write
and make counters of common words hot keys), so a multi-token query reads the index partition of its
*longest* token (the longer a token, the rarer it tends to be) and filters that partition's items on
the other tokens, which each index item carries. docs/search.md has the costs and the limits.
"""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING, Protocol

from orders.errors import SearchQueryTooLong, SearchQueryWithoutTerms
from orders.models.catalog import CategoryCount, IndexEntry, ProductPage

if TYPE_CHECKING:
    from orders.models.catalog import Product

MAX_TOKEN_LENGTH = 32
# Index items per product. A product update is one transaction: the product, two category counters, the new
# token items and the stale ones it deletes, plus a listing's decision and the release of its sku's lock when
# a merchant's change is approved (orders.logic.listings): 1 + 2 + 47 + 48 + 2 = 100, DynamoDB's limit per
# transaction (48 stale ones: products indexed when the cap was 48).
MAX_INDEXED_TOKENS = 47
MAX_QUERY_TOKENS = 8
NAME_KEY_LENGTH = 100


def _is_cjk(char: str) -> bool:
    code = ord(char)
    return (
        0x3040 <= code <= 0x30FF  # hiragana, katakana
        or 0x3400 <= code <= 0x4DBF  # CJK extension A
        or 0x4E00 <= code <= 0x9FFF  # CJK unified ideographs
        or 0xAC00 <= code <= 0xD7AF  # Hangul syllables
        or 0xF900 <= code <= 0xFAFF  # CJK compatibility ideographs
        or 0x20000 <= code <= 0x2FA1F  # CJK extensions B..F, compatibility supplement
    )


def fold(text: str) -> str:
    """Case- and accent-insensitive form: NFKD, combining marks dropped, case-folded."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


def _runs(text: str) -> list[tuple[str, bool]]:
    """Maximal runs of word characters, each marked CJK or not; everything else separates."""
    runs: list[tuple[str, bool]] = []
    current: list[str] = []
    current_cjk = False
    for char in text:
        if char.isalnum():
            cjk = _is_cjk(char)
            if current and cjk != current_cjk:
                runs.append(("".join(current), current_cjk))
                current = []
            current.append(char)
            current_cjk = cjk
        elif current:
            runs.append(("".join(current), current_cjk))
            current = []
    if current:
        runs.append(("".join(current), current_cjk))
    return runs


def tokenize(text: str) -> list[str]:
    """The tokens of ``text`` in order of appearance, without repeats."""
    tokens: list[str] = []
    for run, cjk in _runs(fold(text)):
        if cjk:
            pieces = [run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)]
        else:
            pieces = [run[:MAX_TOKEN_LENGTH]] if len(run) >= 2 else []
        tokens.extend(piece for piece in pieces if piece not in tokens)
    return tokens


def name_key(name: str) -> str:
    """How a product sorts within its category: its folded name (then its sku, added by the index)."""
    return " ".join(fold(name).split())[:NAME_KEY_LENGTH]


def is_listed(product: Product) -> bool:
    """Whether shoppers can find the product (browse, search, counts). Hidden products are not indexed."""
    return product.active


def index_entry(product: Product) -> IndexEntry:
    """Tokens from the name first, then tags, then the description, at most ``MAX_INDEXED_TOKENS``."""
    if not is_listed(product):
        return IndexEntry(listed=False, category=product.category, name_key="", tokens=())
    tokens: list[str] = []
    for text in (product.name, *product.tags, product.description):
        tokens.extend(token for token in tokenize(text) if token not in tokens)
    return IndexEntry(
        listed=True,
        category=product.category,
        name_key=name_key(product.name),
        tokens=tuple(tokens[:MAX_INDEXED_TOKENS]),
    )


def query_terms(q: str) -> list[str]:
    """The tokens a search asks for (all must match); 422 when there are none or too many."""
    terms = tokenize(q)
    if not terms:
        raise SearchQueryWithoutTerms(q=q)
    if len(terms) > MAX_QUERY_TOKENS:
        raise SearchQueryTooLong(tokens=len(terms), max_tokens=MAX_QUERY_TOKENS)
    return terms


def by_selectivity(terms: list[str]) -> list[str]:
    """The terms, the one to read first in front: the longest (rarest, as a rule), the first of equals."""
    driving = max(terms, key=len)
    return [driving, *(term for term in terms if term != driving)]


# --- the port ----------------------------------------------------------------------------------------
class ProductSearch(Protocol):
    """Where shoppers' catalog reads go. DynamoDB index items today (orders.dal.catalog_search);
    a managed search engine (OpenSearch) implements the same three calls (docs/search.md)."""

    def browse(self, category: str | None, *, limit: int, cursor: str | None) -> ProductPage: ...

    def search(self, terms: list[str], category: str | None, *, limit: int, cursor: str | None) -> ProductPage:
        """Products having every one of ``terms``; an implementation may read ``terms[0]``'s postings first."""
        ...

    def categories(self) -> list[CategoryCount]: ...
