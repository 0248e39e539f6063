"""Search: what a query means, and the page of matches a user may see (docs/api/search.md).

A query is read once, here, into folded words and phrases (store/words.py splits and folds
them as the index does); the store turns that into its index's own syntax. No text is a
syntax error: quotes pair up (an unpaired one runs to the end), `*` means something only
right after a word, and every other character is a word's or a separator.
"""

from __future__ import annotations

import unicodedata

from parlour.errors import ChannelNotFound, InvalidInput
from parlour.model import ChannelId, SearchResults, Seq, Session, is_well_formed_id
from parlour.store import Store
from parlour.store.words import Phrase, SearchQuery, words

MAX_QUERY_CHARS = 1000
DEFAULT_RESULTS = 20
MAX_RESULTS = 100
PREFIX_MARK = "*"
QUOTE = '"'


def _phrase(text: str) -> Phrase | None:
    """The words of `text` as one phrase; a prefix when `*` follows its last word at once."""
    found = words(text)
    if not found:
        return None
    last = found[-1]
    prefix = text[last.end : last.end + 1] == PREFIX_MARK
    return Phrase(tuple(word.text for word in found), prefix)


def parse_query(q: str | None) -> SearchQuery:
    """The query `q` means: every word must appear (folded: case and accents do not count),
    a "quoted phrase" as it stands, and a word followed by `*` as the start of a word.
    Several words joined by other characters (`e-mail`, `don't`) count as a phrase.

    Raises InvalidInput when `q` is missing, empty, only white space, or over 1,000
    characters (after NFC, as bodies are counted).
    """
    if q is None or not q:
        raise InvalidInput("Say what to search for: the q parameter is missing or empty.")
    text = unicodedata.normalize("NFC", q)
    if text.isspace():
        raise InvalidInput("Say what to search for: the q parameter is only white space.")
    if len(text) > MAX_QUERY_CHARS:
        raise InvalidInput(f"A search query is at most {MAX_QUERY_CHARS:,} characters long.")
    pieces: list[str] = []
    for n, part in enumerate(text.split(QUOTE)):
        # Even parts lie outside quotes: each run without white space is one phrase.
        pieces.extend(part.split() if n % 2 == 0 else [part])
    phrases = (_phrase(piece) for piece in pieces)
    return SearchQuery(tuple(dict.fromkeys(p for p in phrases if p is not None)))


async def search_messages(
    store: Store,
    session: Session,
    q: str | None,
    channel_id: str | None,
    before: int | None,
    limit: int | None,
) -> SearchResults:
    """The newest `limit` messages (default 20) with a `seq` below `before` that match `q`,
    in the channels the user may see (only `channel_id`, when given).

    Raises InvalidInput (see parse_query; a limit out of 1 to 100), ChannelNotFound (a
    channel the user may not see).
    """
    query = parse_query(q)
    size = DEFAULT_RESULTS if limit is None else limit
    if not 1 <= size <= MAX_RESULTS:
        raise InvalidInput(f"The limit parameter must be 1 to {MAX_RESULTS}.")
    channel: ChannelId | None = None
    if channel_id is not None:
        if not is_well_formed_id(channel_id, "C"):
            raise ChannelNotFound()
        channel = ChannelId(channel_id)
    return await store.select_search(
        session.user.id, query, channel, None if before is None else Seq(before), size
    )
