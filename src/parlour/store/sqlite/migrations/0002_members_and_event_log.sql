-- parlour schema 2 (API revision 2, issue 11): roles and deactivation, password-reset links,
-- login attempts shared by every process, and one log of events.
-- Migrations never change once released; this file copies nothing from parlour's code.

-- Roles and deactivation. The user created by setup (the first) becomes the admin.
ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'member'
    CHECK (role IN ('admin', 'member'));
ALTER TABLE users ADD COLUMN active INTEGER NOT NULL DEFAULT 1;
UPDATE users SET role = 'admin' WHERE seq = (SELECT min(seq) FROM users);

-- Password-reset links: only the SHA-256 of a link's token is kept, as for sessions.
CREATE TABLE reset_links (
    id TEXT PRIMARY KEY,             -- SHA-256 (hex) of the token R…
    user_id TEXT NOT NULL REFERENCES users (id),
    issued_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX reset_links_by_user ON reset_links (user_id);
CREATE INDEX reset_links_by_expiry ON reset_links (expires_at);

-- Login attempts in progress and failed logins within the login window, so that every
-- process counts the same ones (docs/api/sessions.md, "The model"). `name_key` is the SHA-256
-- (hex) of the folded name typed, not the name itself: people type passwords into name
-- fields, and a hash has a bounded size whatever was typed. `address` is the client's
-- address (an IPv6 one as its /64). `in_flight` is 1 while the password is being checked,
-- 0 once it failed; `at` is when the attempt began, then when it failed. Successes and
-- attempts that ended otherwise leave no row.
CREATE TABLE login_attempts (
    id TEXT PRIMARY KEY,
    name_key TEXT NOT NULL,
    address TEXT NOT NULL,
    at INTEGER NOT NULL,
    in_flight INTEGER NOT NULL
);
CREATE INDEX login_attempts_by_name ON login_attempts (name_key, address, at);
CREATE INDEX login_attempts_by_address ON login_attempts (address, at);
CREATE INDEX login_attempts_by_at ON login_attempts (at);

-- One log of events, replayed to resuming streams in sequence order. An event's own fields
-- are kept in `data` (JSON), except a message's body, mentions and reactions: `message sent`
-- and `message edited` read those from the message itself, so that no log keeps a body
-- after the message is deleted, expired or edited (their rows go with the message).
-- `channel_id` is the channel an event is about (who may see it depends on the channel);
-- `subject` is the id it is about (a user, channel or message).
CREATE TABLE events (
    seq INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    type TEXT NOT NULL,
    event TEXT NOT NULL,
    channel_id TEXT,
    subject TEXT NOT NULL,
    data TEXT
);
CREATE INDEX events_by_subject ON events (subject);
CREATE INDEX events_by_at ON events (at);

INSERT INTO events (seq, at, type, event, channel_id, subject, data)
SELECT seq, created_at, 'user', 'created', NULL, id,
       json_object('name', name, 'role', role, 'active', json('true'))
FROM users;
INSERT INTO events (seq, at, type, event, channel_id, subject, data)
SELECT seq, created_at, 'channel', 'created', id, id,
       json_object('name', name, 'created_at', created_at)
FROM channels;
INSERT INTO events (seq, at, type, event, channel_id, subject, data)
SELECT seq, sent_at, 'message', 'sent', channel_id, id, NULL FROM messages;
INSERT INTO events (seq, at, type, event, channel_id, subject, data)
SELECT seq, at, kind, 'deleted', channel_id, id, NULL FROM tombstones;
DROP TABLE tombstones;
