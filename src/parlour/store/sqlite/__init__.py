"""The SQLite engine: parlour's embedded default (one file, WAL, group-committed writes)."""
