-- parlour schema 5 (API revision 2, issues 12 to 14): mentions, edits, reactions, safe
-- retries (client_id), and read state. Copies nothing from parlour's code.

-- A message's last edit, and the client's id for it (a retry with the same id, by the same
-- sender in the same channel, finds the message instead of posting it twice).
ALTER TABLE messages ADD COLUMN edited_at INTEGER;
ALTER TABLE messages ADD COLUMN client_id TEXT;
CREATE UNIQUE INDEX messages_by_client_id ON messages (channel_id, sender, client_id)
    WHERE client_id IS NOT NULL;
-- Unread counts walk this index from a read position onwards, never the messages themselves.
CREATE INDEX messages_unread ON messages (channel_id, seq, sender);

-- Who a message mentions, in the order given; indexed so that a user's mention counts are
-- read from here, not by scanning bodies.
CREATE TABLE mentions (
    message_id TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    seq INTEGER NOT NULL,            -- the message's sequence
    ord INTEGER NOT NULL,
    PRIMARY KEY (message_id, user_id)
);
CREATE INDEX mentions_by_user ON mentions (user_id, channel_id, seq);

-- Reactions: one row per user per emoji per message. An emoji keeps the place it took when
-- first added (`emoji_seq`, copied to every later row of it) for as long as anyone holds it;
-- a user's place within it is their row's sequence.
CREATE TABLE reactions (
    message_id TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    emoji TEXT NOT NULL,
    user_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    emoji_seq INTEGER NOT NULL,
    PRIMARY KEY (message_id, emoji, user_id)
);

-- Each user's read position and notification level per channel; no row means the defaults
-- (docs/api/reads.md).
CREATE TABLE reads (
    user_id TEXT NOT NULL REFERENCES users (id),
    channel_id TEXT NOT NULL,
    seq INTEGER,                     -- NULL: where the user could first see the channel
    level TEXT CHECK (level IN ('all', 'mentions', 'none')),   -- NULL: the kind's default
    PRIMARY KEY (user_id, channel_id)
);
