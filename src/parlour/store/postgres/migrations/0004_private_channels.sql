-- parlour schema 4 on PostgreSQL: the same changes as SQLite's 0004 (see that file).

ALTER TABLE channels ADD COLUMN kind text NOT NULL DEFAULT 'public'
    CHECK (kind IN ('public', 'private', 'direct'));
ALTER TABLE channels ALTER COLUMN name DROP NOT NULL;
ALTER TABLE channels ALTER COLUMN name_key DROP NOT NULL;
ALTER TABLE channels DROP CONSTRAINT channels_name_key;
ALTER TABLE channels ADD COLUMN direct_key text UNIQUE;
CREATE UNIQUE INDEX channels_public_name ON channels (name_key) WHERE kind = 'public';

CREATE TABLE memberships (
    channel_id text NOT NULL,
    user_id text NOT NULL REFERENCES users (id),
    joined_seq bigint NOT NULL,
    left_seq bigint,
    ord integer NOT NULL,
    PRIMARY KEY (channel_id, user_id, joined_seq)
);
CREATE INDEX memberships_by_user ON memberships (user_id, channel_id);

ALTER TABLE events ADD COLUMN audience text NOT NULL DEFAULT 'all';
ALTER TABLE events ADD COLUMN user_id text;
