-- parlour schema 1 on PostgreSQL: the same tables as on SQLite (see its 0001_initial.sql).
-- Times are bigint milliseconds since the Unix epoch (UTC).

-- One row: the newest sequence number handed out, and the newest one forgotten. Every
-- transaction that makes events updates this row first, so writers take sequences (and
-- commit) one after another, in sequence order, across every parlour process.
CREATE TABLE counter (
    id integer PRIMARY KEY CHECK (id = 1),
    seq bigint NOT NULL,
    forgotten_seq bigint NOT NULL
);
INSERT INTO counter (id, seq, forgotten_seq) VALUES (1, 0, 0);

CREATE TABLE users (
    id text PRIMARY KEY,
    name text NOT NULL,
    name_key text NOT NULL CONSTRAINT users_name_key UNIQUE,
    password_hash text NOT NULL,
    created_at bigint NOT NULL,
    seq bigint NOT NULL UNIQUE
);

CREATE TABLE sessions (
    id text PRIMARY KEY,
    user_id text NOT NULL REFERENCES users (id),
    expires_at bigint NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

CREATE TABLE invites (
    id text PRIMARY KEY,
    issuer text NOT NULL REFERENCES users (id),
    issued_at bigint NOT NULL,
    expires_at bigint NOT NULL
);
CREATE INDEX invites_by_expiry ON invites (expires_at);

CREATE TABLE channels (
    id text PRIMARY KEY,
    name text NOT NULL,
    name_key text NOT NULL CONSTRAINT channels_name_key UNIQUE,
    created_at bigint NOT NULL,
    active_at bigint NOT NULL,
    seq bigint NOT NULL UNIQUE
);
CREATE INDEX channels_by_activity ON channels (active_at);

CREATE TABLE messages (
    id text PRIMARY KEY,
    channel_id text NOT NULL REFERENCES channels (id),
    sender text NOT NULL REFERENCES users (id),
    body text NOT NULL,
    sent_at bigint NOT NULL,
    seq bigint NOT NULL UNIQUE
);
CREATE INDEX messages_by_channel ON messages (channel_id);
CREATE INDEX messages_by_sent_at ON messages (sent_at);

CREATE TABLE tombstones (
    seq bigint PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('message', 'channel')),
    id text NOT NULL,
    channel_id text NOT NULL,
    at bigint NOT NULL
);
CREATE INDEX tombstones_by_at ON tombstones (at);
