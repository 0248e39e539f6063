"""SQLite's search index: an FTS5 table of the bodies (docs/api/search.md).

`message_search` (migrations/0006_search.sql) is contentless: it keeps the index of the
words, not another copy of the text, keyed by the message's `seq` (its rowid). Its tokenizer
(`unicode61 remove_diacritics 2`) splits and folds words as store/words.py does. A body leaves
it by FTS5's 'delete' command with the text it was indexed with, and the `secure-delete`
option then removes its words from the index pages at once, rather than at a later merge.
"""

from __future__ import annotations

from parlour.store.engine import SearchSql
from parlour.store.search import COLUMNS, VISIBLE
from parlour.store.words import Phrase, SearchQuery

SELECT = f"""
SELECT {COLUMNS} FROM message_search s
JOIN messages m ON m.seq = s.rowid
JOIN channels c ON c.id = m.channel_id
WHERE message_search MATCH :query AND s.rowid < :before
  AND (:channel IS NULL OR m.channel_id = :channel)
  AND {VISIBLE}
ORDER BY s.rowid DESC LIMIT :limit
"""  # noqa: S608 - constant text


def _phrase(phrase: Phrase) -> str:
    # Folded words hold letters and digits only; a quote is doubled all the same.
    text = " ".join(word.replace('"', '""') for word in phrase.words)
    return f'"{text}"' + ("*" if phrase.prefix else "")


def fts5_query(query: SearchQuery) -> str:
    """The query in FTS5's syntax: every phrase quoted (so no word is ever an operator, such
    as NEAR or NOT), all of them required."""
    return " AND ".join(_phrase(phrase) for phrase in query.phrases)


SEARCH = SearchSql(
    insert="INSERT INTO message_search (rowid, body) VALUES (:seq, :words)",
    delete="INSERT INTO message_search (message_search, rowid, body)"
    " VALUES ('delete', :seq, :body)",
    select=SELECT,
    # FTS5 walks its index newest first and stops at the limit, however common the words.
    select_recent="",
    recent=(),
    # FTS5 splits and folds the body itself.
    words=str,
    query=fts5_query,
)
