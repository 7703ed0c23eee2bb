"""The database a service subprocess writes, as its end-to-end tests read it: the SQLite file
beside its config, or a PostgreSQL schema (``postgres_url``) — the same questions either way.

Reads only, while the service may run: SQLite opened read-only, PostgreSQL through the store's
own sqlite-shaped connection (``?`` placeholders work on both).
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

from bot.store.db import Database
from bot.store.open_database import open_database
from bot.store.postgres_connection import connect
from tests.bot.support_postgres import pg_dump


class ServiceDatabase:
    def __init__(self, sqlite_path: Path, postgres_url: str = "") -> None:
        self.sqlite_path = sqlite_path
        self.postgres_url = postgres_url

    def config_lines(self) -> str:
        """The keys of the config's ``[database]`` table."""
        url = f'url = "{self.postgres_url}"\n' if self.postgres_url else ""
        return f'path = "{self.sqlite_path}"\n{url}'

    @property
    def url(self) -> str:
        return self.postgres_url or f"sqlite:///{self.sqlite_path}"

    def exists(self) -> bool:
        """Has anything created the schema yet?"""
        if not self.postgres_url:
            return self.sqlite_path.exists()
        return bool(
            self.query("SELECT 1 FROM pg_tables WHERE schemaname = current_schema() LIMIT 1")
        )

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        if self.postgres_url:
            conn = connect(self.postgres_url, 10_000)
            try:
                return [tuple(row) for row in conn.execute(sql, params).fetchall()]
            finally:
                conn.close()
        uri = f"file:{self.sqlite_path}?mode=ro"
        with closing(sqlite3.connect(uri, uri=True, timeout=10)) as db:
            return list(db.execute(sql, params).fetchall())

    def stored_bytes(self) -> bytes:
        """Everything stored: the SQLite files (WAL included) or a ``pg_dump`` of the schema."""
        if self.postgres_url:
            return pg_dump(self.postgres_url)
        directory, name = self.sqlite_path.parent, self.sqlite_path.name
        return b"".join(p.read_bytes() for p in directory.iterdir() if p.name.startswith(name))

    async def open(self) -> Database:
        return await open_database(self.url)
