"""What a transaction's statements run through: the database thread, reached in one of two ways.

A ``Transaction`` made by ``Database.transaction()`` hands every statement to aiosqlite's
thread (one queue hand-off, ~25-30 µs, per await). One made by ``Database.run`` already is in
that thread: its statements call sqlite3 directly and its awaits never suspend, so the whole
body runs inside one hand-off (``drive``). Store code sees the same async API either way.
On PostgreSQL (``postgres_db``) the connection is a psycopg one dressed as sqlite3's
(``postgres_connection.PgConnection``) in the backend's own thread: the same two ways in.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Generator, Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar, cast

if TYPE_CHECKING:
    from bot.store.postgres_connection import PgConnection, PgCursor

T = TypeVar("T")

#: A row as the store reads it; outside ``bot/store/`` prefer the store's own dataclasses.
#: On PostgreSQL it is a ``PgRow``, which indexes the same ways (by name and by position).
Row: TypeAlias = sqlite3.Row
#: The driver connection a transaction's statements run on (sqlite3, or psycopg dressed alike).
DriverConnection: TypeAlias = "sqlite3.Connection | PgConnection"
DriverCursor: TypeAlias = "sqlite3.Cursor | PgCursor"
#: Runs a function in the database thread and waits for its result (aiosqlite's queue).
HandOff: TypeAlias = Callable[[Callable[[], Any]], Awaitable[Any]]
#: A statement's parameters: positional (``?``) or named (``:name``).
Params: TypeAlias = Iterable[Any] | Mapping[str, Any]


def _bound(params: Params) -> tuple[Any, ...] | dict[str, Any]:
    """Parameters fixed now (the statement may run later, in the database thread)."""
    if type(params) is tuple:
        return params
    if isinstance(params, Mapping):
        return dict(params)
    return tuple(params)


class NotInline(RuntimeError):
    """A body run by ``Database.run`` waited for something other than its own statements."""


def drive(body: Awaitable[T]) -> T:
    """Run an awaitable that never suspends to its end, here and now (in the database thread)."""
    steps = body.__await__()
    try:
        steps.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    close = getattr(steps, "close", None)
    if close is not None:
        close()
    raise NotInline("a one-hand-off transaction body awaited something other than the database")


class Transaction:
    """What a write holds: store functions take it; code outside ``bot/store/`` only passes it
    on and never looks inside (the seam for a second database)."""

    __slots__ = ("_conn", "_hand_off")

    def __init__(self, conn: DriverConnection, hand_off: HandOff | None) -> None:
        self._conn = conn
        self._hand_off = hand_off

    @property
    def inline(self) -> bool:
        """True when this transaction runs in the database thread (no hand-off per statement)."""
        return self._hand_off is None

    async def call(self, fn: Callable[[], T]) -> T:
        if self._hand_off is None:
            return fn()
        result: T = await self._hand_off(fn)
        return result

    def execute(self, sql: str, params: Params = ()) -> Statement:
        """Awaitable (a ``Cursor``) and usable as ``async with`` (closing the cursor)."""
        return Statement(self, sql, _bound(params))

    async def executemany(self, sql: str, rows: Iterable[Params]) -> Cursor:
        batch = [_bound(row) for row in rows]
        return Cursor(self, await self.call(lambda: self._conn.executemany(sql, batch)))

    async def execute_fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        values = _bound(params)
        rows = await self.call(lambda: self._conn.execute(sql, values).fetchall())
        return cast(list[Row], rows)

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        """Execute, fetch the first row and close, in one step."""
        values = _bound(params)

        def first() -> Row | None:
            cursor = self._conn.execute(sql, values)
            try:
                return cast(Row | None, cursor.fetchone())
            finally:
                cursor.close()

        return await self.call(first)

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        return await self.execute_fetchall(sql, params)


class Statement:
    """One ``execute``: await it for a cursor, or ``async with`` it to close the cursor after."""

    __slots__ = ("_cursor", "_params", "_sql", "_tx")

    def __init__(self, tx: Transaction, sql: str, params: tuple[Any, ...] | dict[str, Any]) -> None:
        self._tx = tx
        self._sql = sql
        self._params = params
        self._cursor: Cursor | None = None

    async def _run(self) -> Cursor:
        conn, sql, params = self._tx._conn, self._sql, self._params
        return Cursor(self._tx, await self._tx.call(lambda: conn.execute(sql, params)))

    def __await__(self) -> Generator[Any, None, Cursor]:
        return self._run().__await__()

    async def __aenter__(self) -> Cursor:
        self._cursor = await self._run()
        return self._cursor

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._cursor is not None:
            await self._cursor.close()


class Cursor:
    """A driver cursor whose fetches go where its transaction's statements go."""

    __slots__ = ("_cursor", "_tx")

    def __init__(self, tx: Transaction, cursor: DriverCursor) -> None:
        self._tx = tx
        self._cursor = cursor

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    async def fetchone(self) -> Row | None:
        return cast(Row | None, await self._tx.call(self._cursor.fetchone))

    async def fetchall(self) -> list[Row]:
        return cast(list[Row], await self._tx.call(self._cursor.fetchall))

    async def close(self) -> None:
        await self._tx.call(self._cursor.close)
