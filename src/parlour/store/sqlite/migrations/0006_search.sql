-- parlour schema 6 (API revision 2, issue 13): search. Copies nothing from parlour's code.

-- The index of every retained message's words, keyed by the message's seq (its rowid). It is
-- contentless: it holds no copy of the text, only the index of its words, folded to lower
-- case without accents (`remove_diacritics 2`: "Café" is "cafe"), never stemmed. A message
-- leaves it by FTS5's 'delete' command, given the text it was indexed with, and
-- `secure-delete` then removes those words from the index pages at once (without it, FTS5
-- keeps them until a later merge; a contentless-delete table would keep them too, since it
-- cannot know the words): a deleted, expired or edited-away word leaves no trace
-- (docs/api/search.md).
CREATE VIRTUAL TABLE message_search USING fts5 (
    body,
    content = '',
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO message_search (message_search, rank) VALUES ('secure-delete', 1);
INSERT INTO message_search (rowid, body) SELECT seq, body FROM messages;
