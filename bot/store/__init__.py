"""Persistence: SQLite through aiosqlite (the default) or PostgreSQL through psycopg 3
behind one store API; encrypted fields, blind indexes, numbered migrations for both."""
