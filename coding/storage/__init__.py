"""Storage: the schema (`schema`: tables and version), the `Store` (engine, transactions,
locking), Alembic `migrations/`, and SQLite `backup`s. The only place that opens a
transaction or knows how tables are made."""
