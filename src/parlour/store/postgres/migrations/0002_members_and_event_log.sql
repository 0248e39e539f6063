-- parlour schema 2 on PostgreSQL: the same changes as SQLite's 0002 (see that file).

ALTER TABLE users ADD COLUMN role text NOT NULL DEFAULT 'member'
    CHECK (role IN ('admin', 'member'));
ALTER TABLE users ADD COLUMN active boolean NOT NULL DEFAULT true;
UPDATE users SET role = 'admin' WHERE seq = (SELECT min(seq) FROM users);

CREATE TABLE reset_links (
    id text PRIMARY KEY,
    user_id text NOT NULL REFERENCES users (id),
    issued_at bigint NOT NULL,
    expires_at bigint NOT NULL
);
CREATE INDEX reset_links_by_user ON reset_links (user_id);
CREATE INDEX reset_links_by_expiry ON reset_links (expires_at);

CREATE TABLE login_attempts (
    id text PRIMARY KEY,
    name_key text NOT NULL,
    address text NOT NULL,
    at bigint NOT NULL,
    in_flight boolean NOT NULL
);
CREATE INDEX login_attempts_by_name ON login_attempts (name_key, address, at);
CREATE INDEX login_attempts_by_address ON login_attempts (address, at);
CREATE INDEX login_attempts_by_at ON login_attempts (at);

CREATE TABLE events (
    seq bigint PRIMARY KEY,
    at bigint NOT NULL,
    type text NOT NULL,
    event text NOT NULL,
    channel_id text,
    subject text NOT NULL,
    data text
);
CREATE INDEX events_by_subject ON events (subject);
CREATE INDEX events_by_at ON events (at);

INSERT INTO events (seq, at, type, event, channel_id, subject, data)
SELECT seq, created_at, 'user', 'created', NULL, id,
       json_build_object('name', name, 'role', role, 'active', true)::text
FROM users;
INSERT INTO events (seq, at, type, event, channel_id, subject, data)
SELECT seq, created_at, 'channel', 'created', id, id,
       json_build_object('name', name, 'created_at', created_at)::text
FROM channels;
INSERT INTO events (seq, at, type, event, channel_id, subject, data)
SELECT seq, sent_at, 'message', 'sent', channel_id, id, NULL FROM messages;
INSERT INTO events (seq, at, type, event, channel_id, subject, data)
SELECT seq, at, kind, 'deleted', channel_id, id, NULL FROM tombstones;
DROP TABLE tombstones;
