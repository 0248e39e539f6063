-- parlour schema 7 (API revision 2, issue 14): Web Push. Copies nothing from parlour's code.

-- Server-wide settings that must be the same in every process, made once: the VAPID keypair
-- (`vapid_private_key`, a base64url P-256 private scalar) with which push services know
-- this server. The first process to start writes it; every later one reads it.
CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Browsers to push to (docs/api/push.md). One endpoint belongs to one user; each is tied to
-- the session that registered it, so that logging out (or any end of that session) stops
-- the pushes to that browser: the row goes with its session.
CREATE TABLE push_subscriptions (
    endpoint TEXT PRIMARY KEY,       -- the push service's https: URL for this browser
    user_id TEXT NOT NULL REFERENCES users (id),
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    p256dh TEXT NOT NULL,            -- the browser's P-256 public key, base64url
    auth TEXT NOT NULL,              -- the browser's 16-byte auth secret, base64url
    created_at INTEGER NOT NULL
);
CREATE INDEX push_subscriptions_by_user ON push_subscriptions (user_id, created_at);
CREATE INDEX push_subscriptions_by_session ON push_subscriptions (session_id);

-- When each user last had an event stream open, in any process: every process records its
-- connected users every 20 s, and the time a user's last stream there closed. A user seen
-- within the last 60 s gets no push.
CREATE TABLE presence (
    user_id TEXT PRIMARY KEY REFERENCES users (id),
    seen_at INTEGER NOT NULL
);
