-- parlour schema 7 on PostgreSQL: the same changes as SQLite's 0007 (see that file).

CREATE TABLE settings (
    name text PRIMARY KEY,
    value text NOT NULL
);

CREATE TABLE push_subscriptions (
    endpoint text PRIMARY KEY,
    user_id text NOT NULL REFERENCES users (id),
    session_id text NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    p256dh text NOT NULL,
    auth text NOT NULL,
    created_at bigint NOT NULL
);
CREATE INDEX push_subscriptions_by_user ON push_subscriptions (user_id, created_at);
CREATE INDEX push_subscriptions_by_session ON push_subscriptions (session_id);

CREATE TABLE presence (
    user_id text PRIMARY KEY REFERENCES users (id),
    seen_at bigint NOT NULL
);
