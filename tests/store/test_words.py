"""Search's words (store/words.py): the same as SQLite's FTS5 tokenizer, for every code point.

The SQLite index splits and folds bodies with `unicode61 remove_diacritics 2`; parlour's
Python must agree with it exactly (for highlights, for queries, and for PostgreSQL's index),
so this compares them on every code point of Unicode, through the installed SQLite.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from parlour.store.sqlite import driver
from parlour.store.words import Phrase, SearchQuery, find, fold, words

SURROGATES = range(0xD800, 0xE000)
PER_ROW = 2000


def sqlite_words(texts: list[str]) -> list[list[str]]:
    """What FTS5 (unicode61 remove_diacritics 2) makes of each text, word by word."""
    conn = driver.connect(":memory:", isolation_level=None)
    try:
        conn.execute(
            "CREATE VIRTUAL TABLE t USING fts5(b, content='',"
            " tokenize='unicode61 remove_diacritics 2')"
        )
        conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO t (rowid, b) VALUES (?, ?)", enumerate(texts))
        conn.execute("COMMIT")
        found: list[list[tuple[int, str]]] = [[] for _ in texts]
        for term, doc, _, offset in conn.execute("SELECT term, doc, col, offset FROM v"):
            found[doc].append((offset, term))
        return [[term for _, term in sorted(doc)] for doc in found]
    finally:
        conn.close()


def test_every_code_point_splits_and_folds_as_in_sqlite() -> None:
    points = [cp for cp in range(0x110000) if cp not in SURROGATES]
    # "a<c>a" for every code point: one word if it belongs to words, two if it separates.
    texts = [
        " ".join("a" + chr(cp) + "a" for cp in points[i : i + PER_ROW])
        for i in range(0, len(points), PER_ROW)
    ]
    expected = sqlite_words(texts)
    for text, sqlite in zip(texts, expected, strict=True):
        if fold(text) != sqlite:
            mine = fold(text)
            first = next(i for i, (a, b) in enumerate(zip(mine, sqlite, strict=False)) if a != b)
            raise AssertionError(f"differs at word {first}: {mine[first]!r} != {sqlite[first]!r}")


def test_a_lone_combining_accent_is_no_word_and_takes_no_place() -> None:
    text = "x \u0301 y cafe\u0301"
    assert fold(text) == sqlite_words([text])[0] == ["x", "y", "cafe"]
    assert find(SearchQuery((Phrase(("x", "y")),)), text) == [(0, 1), (4, 5)]


@given(st.text(max_size=60))
def test_folding_the_whole_text_gives_the_words(text: str) -> None:
    assert fold(text) == [word.text for word in words(text)]
    assert fold(text) == sqlite_words([text])[0]


def test_words_know_where_they_stand_in_code_points() -> None:
    found = words("Ünïcödé 👩‍💻 and CAFÉ…")
    assert [(w.text, w.start, w.end) for w in found] == [
        ("unicode", 0, 7),
        ("and", 12, 15),
        ("cafe", 16, 20),
    ]


def test_find_marks_every_word_of_every_match() -> None:
    body = "The brown fox saw a brown dog; brownies too"
    query = SearchQuery((Phrase(("brown",)), Phrase(("fox",), prefix=True)))
    assert find(query, body) == [(4, 9), (10, 13), (20, 25)]
    assert find(SearchQuery((Phrase(("brown", "d"), prefix=True),)), body) == [(20, 25), (26, 29)]
    assert find(SearchQuery((Phrase(("brown",), prefix=True),)), body) == [
        (4, 9),
        (20, 25),
        (31, 39),
    ]
    assert find(SearchQuery((Phrase(("brown", "cat")),)), body) is None
    assert find(SearchQuery(()), body) is None
