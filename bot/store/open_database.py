"""Which backend a ``database.url`` names, opened: SQLite (the default) or PostgreSQL.

``sqlite:///PATH`` opens the file PATH (relative to the working directory; ``sqlite:////abs``
is absolute); ``postgresql://`` (or ``postgres://``) hands the whole URL to libpq, so
``sslmode`` and the other connection options pass through and the password comes from
``PGPASSWORD`` or ``~/.pgpass``. Invariant: the PostgreSQL driver is imported only when a
PostgreSQL URL is opened (start-up of an SQLite install stays as lean as before).
"""

from __future__ import annotations

from bot.config import redact_database_url
from bot.store.db import BusyPolicy, Database

__all__ = ["is_postgres_url", "open_database"]

SQLITE_PREFIX = "sqlite:///"


def is_postgres_url(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


async def open_database(
    url: str, busy: BusyPolicy | None = None, *, migrate: bool = True
) -> Database:
    """Open (and by default migrate) the database ``url`` names."""
    if is_postgres_url(url):
        from bot.store.postgres_db import PostgresDatabase  # psycopg: only when asked for

        return await PostgresDatabase.open_url(url, busy, migrate=migrate)
    if url.startswith(SQLITE_PREFIX):
        return await Database.open(url[len(SQLITE_PREFIX) :], busy, migrate=migrate)
    raise ValueError(f"not a database URL this store opens: {redact_database_url(url)!r}")
