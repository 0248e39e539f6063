"""Search: the index kept in step with messages, and the matches a user may see.

See docs/api/search.md. Each engine keeps its own index (an FTS5 table on SQLite, a tsvector
column with a GIN index on PostgreSQL), reached through the statements it supplies
(`Engine.search`): these functions are written once for both. The index is changed inside
the transaction that changes the message, so it never finds a message that is gone, nor an
edited message by its old words.

The index chooses candidates; Python decides (words.find), with the same rules on both
stores. On SQLite every candidate matches. On PostgreSQL a few can fail: a word longer than
an index entry may be (511 code points) is indexed by its beginning, and a phrase in a
message that repeats one word more than 256 times is checked by its words alone. Both make
the index find more, never less, so the answer is exact on both.
"""

from __future__ import annotations

from typing import Any

from parlour.model import ChannelId, Message, SearchResult, SearchResults, Seq, UserId
from parlour.store.details import message_row, with_details
from parlour.store.engine import Reader, Row, Tx
from parlour.store.visibility import require_visible
from parlour.store.words import SearchQuery, find

# What `select` is given for "no `before`": above every sequence the store can hold.
NO_BOUND = 2**63 - 1
# The columns of `select`: details.MESSAGE_COLUMNS, of the message table `m`.
COLUMNS = "m.id, m.channel_id, m.sender, m.body, m.sent_at, m.seq, m.edited_at, m.client_id"
# A channel `c` that `:user` may see (visibility.py: public, or private and direct ones
# while a member).
VISIBLE = """(c.kind = 'public' OR EXISTS (SELECT 1 FROM memberships ms
    WHERE ms.channel_id = c.id AND ms.user_id = :user AND ms.left_seq IS NULL))"""


def index_message(tx: Tx, seq: Seq, body: str) -> None:
    search = tx.engine.search
    tx.run(search.insert, {"seq": seq, "words": search.words(body)})


def unindex_message(tx: Tx, seq: Seq, body: str) -> None:
    """Forget the message's words; `body` must be the text it was indexed with (its stored
    body: SQLite's index removes the words of this text, and keeps no copy to look them up)."""
    tx.run(tx.engine.search.delete, {"seq": seq, "body": body})


def reindex_message(tx: Tx, seq: Seq, old_body: str, new_body: str) -> None:
    """The edited body replaces the old one in the index; no word of the old one is left."""
    unindex_message(tx, seq, old_body)
    index_message(tx, seq, new_body)


def _candidates(r: Reader, params: dict[str, Any], limit: int) -> list[Row]:
    """Up to `limit` + 1 index matches below `:before`, newest first (see SearchSql)."""
    search = r.engine.search
    rows: list[Row] = []
    for recent in search.recent:
        rows = r.rows(search.select_recent, {**params, "recent": recent})
        if len(rows) > limit:
            return rows
    below = {**params, "recent": search.recent[-1] if search.recent else 0}
    return rows + r.rows(search.select, {**below, "limit": limit + 1 - len(rows)})


def select_results(
    r: Reader,
    user: UserId,
    query: SearchQuery,
    channel_id: ChannelId | None,
    before: Seq | None,
    limit: int,
) -> SearchResults:
    """The newest `limit` messages below `before` that match `query`, newest first, with where
    they match; and whether more match below the last. Only from channels `user` may see
    (with `channel_id`, that one only: ChannelNotFound if they may not)."""
    if channel_id is not None:
        require_visible(r, channel_id, user)
    if not query.phrases:
        return SearchResults([], older=False)
    search = r.engine.search
    params: dict[str, Any] = {
        "query": search.query(query),
        "user": user,
        "channel": channel_id,
        "before": NO_BOUND if before is None else before,
        "limit": limit + 1,
    }
    found: list[tuple[Message, list[tuple[int, int]]]] = []
    while True:
        rows = _candidates(r, params, limit)
        for row in rows:
            message = message_row(row)
            marks = find(query, message.body)
            if marks is not None:
                found.append((message, marks))
        if len(found) > limit or len(rows) <= limit:
            break
        # Some candidates did not match (PostgreSQL, above): read on below them.
        params["before"] = rows[-1][5]
    shown = found[:limit]
    messages = with_details(r, [message for message, _ in shown])
    return SearchResults(
        [
            SearchResult(message, tuple(marks))
            for message, (_, marks) in zip(messages, shown, strict=True)
        ],
        older=len(found) > limit,
    )
