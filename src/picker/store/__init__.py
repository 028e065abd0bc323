"""Storage: the schema, engines and sessions (SQLite or PostgreSQL), migrations, bulk writes."""
