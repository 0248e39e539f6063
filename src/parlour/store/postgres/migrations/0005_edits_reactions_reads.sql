-- parlour schema 5 on PostgreSQL: the same changes as SQLite's 0005 (see that file).

ALTER TABLE messages ADD COLUMN edited_at bigint;
ALTER TABLE messages ADD COLUMN client_id text;
CREATE UNIQUE INDEX messages_by_client_id ON messages (channel_id, sender, client_id)
    WHERE client_id IS NOT NULL;
CREATE INDEX messages_unread ON messages (channel_id, seq, sender);

CREATE TABLE mentions (
    message_id text NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    user_id text NOT NULL,
    channel_id text NOT NULL,
    seq bigint NOT NULL,
    ord integer NOT NULL,
    PRIMARY KEY (message_id, user_id)
);
CREATE INDEX mentions_by_user ON mentions (user_id, channel_id, seq);

CREATE TABLE reactions (
    message_id text NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    emoji text NOT NULL,
    user_id text NOT NULL,
    seq bigint NOT NULL,
    emoji_seq bigint NOT NULL,
    PRIMARY KEY (message_id, emoji, user_id)
);

CREATE TABLE reads (
    user_id text NOT NULL REFERENCES users (id),
    channel_id text NOT NULL,
    seq bigint,
    level text CHECK (level IN ('all', 'mentions', 'none')),
    PRIMARY KEY (user_id, channel_id)
);
