"""A psycopg 3 connection dressed as the sqlite3 connection the store's ``Transaction`` drives.

``Transaction`` calls ``execute``/``executemany`` and reads cursors (``fetchone``, ``fetchall``,
``rowcount``, ``lastrowid``, ``close``); this adapter gives a PostgreSQL connection that shape,
translating each statement once (``postgres_dialect.to_postgres``). Rows index by column name
and by position, like ``sqlite3.Row``. Parameters are bound client-side (``ClientCursor``): a
text parameter is an untyped literal, so it meets an INTEGER or TEXT column as SQLite's would.

Invariant: the connection is used from ONE thread only (the backend's database thread), in
autocommit mode: transactions are the explicit ``BEGIN`` ... ``COMMIT`` the backend issues.
Bytes stay bytes (``BYTEA`` both ways): sealed fields and blind indexes never become text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, cast, overload

import psycopg
from psycopg.adapt import Dumper
from psycopg.pq import Format

from bot.store.postgres_dialect import to_postgres

__all__ = ["PgConnection", "PgCursor", "PgRow", "connect"]


class PgRow(tuple[Any, ...]):
    """One row: ``row[0]``, ``row["name"]``, ``row.keys()``, ``dict(row)`` like ``sqlite3.Row``."""

    _index: dict[str, int]

    def __new__(cls, values: Sequence[Any], index: dict[str, int]) -> PgRow:
        row = super().__new__(cls, values)
        row._index = index
        return row

    @overload  # type: ignore[override]
    def __getitem__(self, key: int | str) -> Any: ...
    @overload
    def __getitem__(self, key: slice) -> tuple[Any, ...]: ...
    def __getitem__(self, key: int | str | slice) -> Any:
        if isinstance(key, str):
            try:
                return tuple.__getitem__(self, self._index[key])
            except KeyError:
                raise IndexError(f"no such column: {key}") from None
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._index)


def _row_factory(cursor: psycopg.Cursor[Any]) -> Callable[[Sequence[Any]], PgRow]:
    names = [column.name for column in cursor.description or ()]
    index: dict[str, int] = {}
    for position, name in enumerate(names):
        index.setdefault(name, position)
    return lambda values: PgRow(values, index)


class _BoolAsInteger(Dumper):
    """Python bools go into the schema's INTEGER flag columns as 1 and 0 (as on SQLite)."""

    format = Format.TEXT

    def dump(self, obj: Any) -> bytes:
        return b"1" if obj else b"0"

    def quote(self, obj: Any) -> bytes:
        return self.dump(obj)


def connect(url: str, lock_timeout_ms: int) -> PgConnection:
    """Open ``url`` (libpq URI: password from PGPASSWORD or .pgpass, sslmode etc. passed on)."""
    raw = psycopg.connect(
        url,
        autocommit=True,
        cursor_factory=psycopg.ClientCursor,
        row_factory=cast(Any, _row_factory),
    )
    raw.adapters.register_dumper(bool, _BoolAsInteger)
    conn = PgConnection(raw)
    conn.set_lock_timeout(lock_timeout_ms)
    return conn


class PgCursor:
    """A finished statement: its rows (if any), how many it touched, the id it inserted."""

    __slots__ = ("_cursor", "lastrowid", "rowcount")

    def __init__(self, cursor: psycopg.Cursor[Any], returned_id: bool) -> None:
        self._cursor = cursor
        self.rowcount = cursor.rowcount
        self.lastrowid: int | None = None
        if returned_id:
            row = cursor.fetchone()
            self.lastrowid = int(row[0]) if row is not None else None

    def fetchone(self) -> PgRow | None:
        if self._cursor.description is None or self._cursor.closed:
            return None
        return cast(PgRow | None, self._cursor.fetchone())

    def fetchall(self) -> list[PgRow]:
        if self._cursor.description is None or self._cursor.closed:
            return []
        return cast(list[PgRow], self._cursor.fetchall())

    def __iter__(self) -> Iterator[PgRow]:
        return iter(self.fetchall())

    def close(self) -> None:
        self._cursor.close()


class PgConnection:
    """The sqlite3-shaped face of one psycopg connection (see the module docstring)."""

    __slots__ = ("raw",)

    def __init__(self, raw: psycopg.Connection[Any]) -> None:
        self.raw = raw

    @property
    def in_transaction(self) -> bool:
        return self.raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE

    def set_lock_timeout(self, timeout_ms: int) -> None:
        self.raw.execute(f"SET lock_timeout = {int(timeout_ms)}")

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> PgCursor:
        translated = to_postgres(sql)
        cursor = self.raw.execute(cast(Any, translated), params)
        added_returning = translated.endswith(" RETURNING id") and "RETURNING" not in sql.upper()
        return PgCursor(cursor, added_returning)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any] | Mapping[str, Any]]) -> PgCursor:
        cursor = self.raw.cursor()
        cursor.executemany(cast(Any, to_postgres(sql, returning_id=False)), list(rows))
        return PgCursor(cursor, False)

    def script(self, statement: str) -> None:
        """A schema statement as written (migrations are PostgreSQL already: no translation)."""
        self.raw.execute(cast(Any, statement))

    def close(self) -> None:
        self.raw.close()
