-- Schema 3 (issue 12): history is read a page at a time from either end of a channel, so
-- messages are indexed by (channel, sequence); the index on the channel alone is covered.
CREATE INDEX messages_by_channel_seq ON messages (channel_id, seq);
DROP INDEX messages_by_channel;
