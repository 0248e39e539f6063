"""The PostgreSQL engine: several parlour processes on one database (docs/scaling.md)."""
