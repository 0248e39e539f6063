-- parlour schema 4 (API revision 2, issue 13): private and direct channels, who is in them,
-- and who may see each logged event. Copies nothing from parlour's code.

-- Channels gain a kind. A direct channel has no name, and public names alone are unique, so
-- the table is rebuilt (SQLite cannot drop a NOT NULL or a UNIQUE in place); foreign keys
-- are off during migrations, and `messages` refers to the table by name.
CREATE TABLE channels_new (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL DEFAULT 'public' CHECK (kind IN ('public', 'private', 'direct')),
    name TEXT,                       -- NULL for a direct channel
    name_key TEXT,                   -- NFKC case-folded name: unique among public channels
    direct_key TEXT UNIQUE,          -- a direct channel's sorted member ids: one per set
    created_at INTEGER NOT NULL,
    active_at INTEGER NOT NULL,
    seq INTEGER NOT NULL UNIQUE
);
INSERT INTO channels_new (id, kind, name, name_key, created_at, active_at, seq)
SELECT id, 'public', name, name_key, created_at, active_at, seq FROM channels;
DROP TABLE channels;
ALTER TABLE channels_new RENAME TO channels;
CREATE UNIQUE INDEX channels_public_name ON channels (name_key) WHERE kind = 'public';
CREATE INDEX channels_by_activity ON channels (active_at);

-- Who is (and was) in each private or direct channel: [joined_seq, left_seq], both ends
-- included, so that a member sees the event that added them and the one that removed them.
-- Kept after a channel is deleted, until its events are purged, for replay.
CREATE TABLE memberships (
    channel_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    joined_seq INTEGER NOT NULL,
    left_seq INTEGER,
    ord INTEGER NOT NULL,            -- members are listed in the order they joined
    PRIMARY KEY (channel_id, user_id, joined_seq)
);
CREATE INDEX memberships_by_user ON memberships (user_id, channel_id);

-- Who may see a logged event: everyone ('all'), the members of `channel_id` at that moment
-- ('members'), or one user ('user', `user_id`).
ALTER TABLE events ADD COLUMN audience TEXT NOT NULL DEFAULT 'all';
ALTER TABLE events ADD COLUMN user_id TEXT;
