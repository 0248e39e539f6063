-- parlour schema 6 (API revision 2, issue 13): search. Copies nothing from parlour's code.

-- The words of every retained message, keyed by its seq, under a GIN index. They are split
-- and folded by parlour as SQLite's FTS5 index does it (lower case, accents removed, never
-- stemmed), not by PostgreSQL's parser, so that both stores find the same messages
-- (store/postgres/search_sql.py says why). SQL cannot do that splitting, so this migration
-- leaves the table empty and parlour fills it in the same transaction (migrate.py).
CREATE TABLE message_search (
    seq bigint PRIMARY KEY REFERENCES messages (seq) ON DELETE CASCADE,
    words tsvector NOT NULL
);
CREATE INDEX message_search_words ON message_search USING gin (words);
