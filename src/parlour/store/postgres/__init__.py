"""The PostgreSQL engine: several parlour processes on one database (SPEC "Scaling out")."""
