"""Persistence: SQLite through aiosqlite, encrypted fields, numbered migrations."""
