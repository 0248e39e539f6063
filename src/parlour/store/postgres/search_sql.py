"""PostgreSQL's search index: the words of each body as a tsvector, under a GIN index.

See docs/api/search.md. PostgreSQL's own parser (`to_tsvector`) splits text otherwise than
SQLite's FTS5 does (it keeps `user@example.com` and `x.org/a/b` whole, adds `foo-bar` beside
`foo` and `bar`, drops `²` and emoji, and in some locales splits words at `é`), so the same
query would find other messages on the two stores. parlour therefore gives PostgreSQL the
words itself, split and folded by store/words.py as SQLite's tokenizer does them: lower case
and accents removed (what `unaccent` would do), never stemmed (as the `simple` configuration),
each with its positions, for phrases. Queries are built from the parsed words the same way:
every word a quoted lexeme, `<->` between the words of a phrase, `:*` after a prefix, `&`
between phrases, so no text a user types is ever read as tsquery syntax.
"""

from __future__ import annotations

from typing import Any

import psycopg

from parlour.store.engine import SearchSql
from parlour.store.search import COLUMNS, VISIBLE
from parlour.store.words import Phrase, SearchQuery, fold

# A lexeme may take 2,047 bytes; 511 code points take at most 2,044. A longer word is indexed
# by its first 511 (a query word too): the index then finds more, and words.find decides.
MAX_LEXEME = 511
# PostgreSQL keeps the first 256 positions of a lexeme and drops the others.
MAX_POSITIONS = 256
# In a body where some word lost positions, phrases are looked for by their words alone (and
# words.find decides): this lexeme marks such a body. No text gives it (a space and `#`
# never belong to a word).
CAPPED = "# capped"
# Messages indexed per statement when the index is built in bulk.
FILL_BATCH = 5000

# Two ways to find the newest matches, each right for some words: walk the index newest first
# and test each entry (few entries for a common word), or ask the GIN index for every match
# and sort them (few matches for a rare one). PostgreSQL's planner picks one by its estimate
# of how common the words are, and for words outside its statistics, or for phrases, it
# misjudged by up to 100 times in the benchmark (hundreds of milliseconds). So parlour picks:
# first the newest 2,000 entries are tested, then the newest 20,000 (bounded work), and only
# when they hold too few matches is the GIN index asked for those below (where the words are
# rare, by then: under 1 in 1,000).
RECENT = (2000, 20_000)
_MATCHES = f"""
JOIN messages m ON m.seq = s.seq
JOIN channels c ON c.id = m.channel_id
WHERE s.words @@ CAST(:query AS tsquery)
  AND (CAST(:channel AS text) IS NULL OR m.channel_id = :channel)
  AND {VISIBLE}"""
_RECENT = (
    "SELECT seq, words FROM message_search WHERE seq < :before ORDER BY seq DESC LIMIT :recent"
)
SELECT_RECENT = f"""
SELECT {COLUMNS} FROM ({_RECENT}) s {_MATCHES}
ORDER BY s.seq DESC LIMIT :limit
"""  # noqa: S608 - constant text
# `s.seq + 0`: no order that the seq index could give, so the GIN index is used.
SELECT = f"""
SELECT {COLUMNS} FROM message_search s {_MATCHES}
  AND s.seq < (SELECT coalesce(min(r.seq), :before) FROM ({_RECENT}) r)
ORDER BY s.seq + 0 DESC LIMIT :limit
"""  # noqa: S608 - constant text


def _lexeme(word: str) -> str:
    # Folded words hold letters and digits only; quotes and backslashes are escaped anyway.
    return "'" + word[:MAX_LEXEME].replace("\\", "\\\\").replace("'", "''") + "'"


def tsvector(body: str) -> str:
    """The body's words as tsvector text: each lexeme with its positions (from 1)."""
    positions: dict[str, list[int]] = {}
    for n, word in enumerate(fold(body), start=1):
        positions.setdefault(_lexeme(word), []).append(n)
    parts = [
        f"{lexeme}:{','.join(map(str, at[:MAX_POSITIONS]))}" for lexeme, at in positions.items()
    ]
    if any(len(at) > MAX_POSITIONS for at in positions.values()):
        parts.append(_lexeme(CAPPED))
    return " ".join(parts)


def _phrase(phrase: Phrase) -> str:
    lexemes = [_lexeme(word) for word in phrase.words]
    if phrase.prefix:
        lexemes[-1] += ":*"
    if len(lexemes) == 1:
        return lexemes[0]
    return f"(({' <-> '.join(lexemes)}) | ({' & '.join(lexemes)} & {_lexeme(CAPPED)}))"


def tsquery(query: SearchQuery) -> str:
    """The query as tsquery text: all phrases required."""
    return " & ".join(_phrase(phrase) for phrase in query.phrases)


SEARCH = SearchSql(
    insert="INSERT INTO message_search (seq, words) VALUES (:seq, CAST(:words AS tsvector))",
    delete="DELETE FROM message_search WHERE seq = :seq",
    select=SELECT,
    select_recent=SELECT_RECENT,
    recent=RECENT,
    words=tsvector,
    query=tsquery,
)


def fill_index(conn: psycopg.Connection[Any]) -> int:
    """Index every message that has no entry yet, in the caller's transaction; how many.

    SQL cannot split words as parlour does, so migration 0006 makes the index empty and
    this fills it (store/postgres/migrate.py), as does copying a community from SQLite.
    """
    done = 0
    last = -1
    while True:
        rows = conn.execute(
            "SELECT m.seq, m.body FROM messages m WHERE m.seq > %s AND NOT EXISTS"
            " (SELECT 1 FROM message_search s WHERE s.seq = m.seq) ORDER BY m.seq LIMIT %s",
            (last, FILL_BATCH),
        ).fetchall()
        if not rows:
            return done
        with conn.cursor().copy("COPY message_search (seq, words) FROM STDIN") as copy:
            for seq, body in rows:
                copy.write_row((seq, tsvector(body)))
        done += len(rows)
        last = rows[-1][0]
