-- parlour schema 1. Times are integer milliseconds since the Unix epoch (UTC).
-- Every row that an event describes carries the event's sequence number (`seq`), so the
-- event stream is replayed from the tables themselves: no separate log keeps a copy of a
-- message body after the message is gone (docs/operations.md, "Expiry").

-- One row: the newest sequence number handed out, and the newest one forgotten
-- (the highest seq of a purged tombstone; resume points below it get 410 Gone).
CREATE TABLE counter (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    forgotten_seq INTEGER NOT NULL
);
INSERT INTO counter (id, seq, forgotten_seq) VALUES (1, 0, 0);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,   -- NFKC case-folded name: "same name" means equal keys
    password_hash TEXT NOT NULL,     -- argon2id
    created_at INTEGER NOT NULL,
    seq INTEGER NOT NULL UNIQUE
);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY,             -- SHA-256 of the token; the token itself is never stored
    user_id TEXT NOT NULL REFERENCES users (id),
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

CREATE TABLE invites (
    id TEXT PRIMARY KEY,
    issuer TEXT NOT NULL REFERENCES users (id),
    issued_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX invites_by_expiry ON invites (expires_at);

CREATE TABLE channels (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    active_at INTEGER NOT NULL,      -- later of creation and newest message: channel expiry
    seq INTEGER NOT NULL UNIQUE
);
CREATE INDEX channels_by_activity ON channels (active_at);

CREATE TABLE messages (
    id TEXT PRIMARY KEY,
    channel_id TEXT NOT NULL REFERENCES channels (id),
    sender TEXT NOT NULL REFERENCES users (id),
    body TEXT NOT NULL,
    sent_at INTEGER NOT NULL,
    seq INTEGER NOT NULL UNIQUE
);
CREATE INDEX messages_by_channel ON messages (channel_id);
CREATE INDEX messages_by_sent_at ON messages (sent_at);

-- Deletions, remembered for the message expiry period so that a resuming stream learns of
-- them (docs/api/events.md, guarantee 5).
CREATE TABLE tombstones (
    seq INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('message', 'channel')),
    id TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX tombstones_by_at ON tombstones (at);
