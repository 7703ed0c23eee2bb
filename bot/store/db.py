"""One SQLite database, one connection, one writer at a time.

The service runs on a single asyncio loop: a lock serialises transactions so
two coroutines never interleave statements inside one. WAL with
``synchronous=NORMAL`` survives a killed process (DESIGN.md §9 crash tests);
only a power cut could lose the last commits. Another process holding the write
lock (a CLI command, a backup) is waited for: ``busy_timeout``, then a few more
tries, then ``DatabaseBusy`` for the caller to turn into "deliver it again".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

import aiosqlite

from bot.private_files import ensure_private_file
from bot.store.schema import MIGRATIONS, REBUILDS

log = logging.getLogger(__name__)

#: SQLite's own wait for the write lock, per attempt.
BUSY_TIMEOUT_MS = 4_000
#: Pauses before the further attempts. Worst case about 3 x 4 s + 1.5 s = 13.5 s: within
#: Twilio's 15 s webhook read timeout, so she gets a 503 (and a retry), not a dropped call.
BUSY_RETRY_DELAYS = (0.5, 1.0)
_BUSY_CODES = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


#: What ``Database.transaction()`` hands out. Store functions take it; code outside
#: ``bot/store/`` only passes it on and never looks inside (the seam for a second database).
Transaction: TypeAlias = aiosqlite.Connection
#: A row as the store reads it; outside ``bot/store/`` prefer the store's own dataclasses.
Row: TypeAlias = aiosqlite.Row


@dataclass(frozen=True)
class BusyPolicy:
    """How long a write waits for another connection's lock (tests make it short)."""

    timeout_ms: int = BUSY_TIMEOUT_MS
    retry_delays: tuple[float, ...] = BUSY_RETRY_DELAYS


class DatabaseBusy(Exception):
    """Another connection held the write lock through every try: nothing was written."""


def is_busy(exc: BaseException) -> bool:
    """SQLITE_BUSY or SQLITE_LOCKED (extended codes included)."""
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _BUSY_CODES
    return "locked" in str(exc) or "busy" in str(exc)


class Database:
    """An open database with migrations applied; use ``transaction()`` for every write."""

    def __init__(
        self, conn: aiosqlite.Connection, path: Path, busy: BusyPolicy | None = None
    ) -> None:
        self.conn = conn
        self.path = path
        self.busy = busy or BusyPolicy()
        self._write = asyncio.Lock()
        self._after_commit: list[Callable[[], None]] = []

    @classmethod
    async def open(cls, path: str | Path, busy: BusyPolicy | None = None) -> Database:
        policy = busy or BusyPolicy()
        target = Path(path)
        if str(target) != ":memory:":
            ensure_private_file(target)
        conn = await aiosqlite.connect(str(target), isolation_level=None)
        conn.row_factory = aiosqlite.Row
        for pragma in (
            "PRAGMA journal_mode=WAL",
            "PRAGMA synchronous=NORMAL",
            "PRAGMA foreign_keys=ON",
            f"PRAGMA busy_timeout={int(policy.timeout_ms)}",
            "PRAGMA secure_delete=ON",
        ):
            await conn.execute(pragma)
        db = cls(conn, target, policy)
        await db.migrate()
        return db

    async def migrate(self) -> int:
        """Run every migration past ``user_version``, each in its own transaction."""
        async with self.conn.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        version = int(row[0]) if row else 0
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            rebuild = number in REBUILDS
            if rebuild:  # the pragma is a no-op inside a transaction: set it before
                await self.conn.execute("PRAGMA foreign_keys=OFF")
            try:
                async with self.transaction() as tx:
                    for statement in _statements(script):
                        await tx.execute(statement)
                    if rebuild:
                        broken = await tx.execute_fetchall("PRAGMA foreign_key_check")
                        if broken:
                            raise sqlite3.IntegrityError(
                                f"migration {number} breaks {len(list(broken))} foreign key(s)"
                            )
                    await tx.execute(f"PRAGMA user_version={number}")
            finally:
                if rebuild:
                    await self.conn.execute("PRAGMA foreign_keys=ON")
        return len(MIGRATIONS)

    async def set_busy(self, policy: BusyPolicy) -> None:
        """Change how long writes wait for another connection's lock."""
        await self.conn.execute(f"PRAGMA busy_timeout={int(policy.timeout_ms)}")
        self.busy = policy

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``; rolls back on any exception, a failed COMMIT too.

        Raises ``DatabaseBusy`` if the write lock stays taken (nothing was written then).
        """
        async with self._write:
            self._after_commit = []
            await self._begin()
            try:
                yield self.conn
            except BaseException as exc:
                await self.conn.execute("ROLLBACK")
                self._after_commit = []
                if is_busy(exc):
                    raise DatabaseBusy("a statement found the database locked") from exc
                raise
            try:
                await self.conn.execute("COMMIT")
            except BaseException as exc:
                # A failed COMMIT leaves the transaction open: the next BEGIN would fail.
                with contextlib.suppress(sqlite3.Error, ValueError):
                    await self.conn.execute("ROLLBACK")
                self._after_commit = []
                if is_busy(exc):
                    raise DatabaseBusy("COMMIT found the database locked") from exc
                raise
            callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()

    async def _begin(self) -> None:
        """``BEGIN IMMEDIATE``, tried again after each pause while another connection writes."""
        delays = iter(self.busy.retry_delays)
        while True:
            try:
                await self.conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if not is_busy(exc):
                    raise
                delay = next(delays, None)
                if delay is None:
                    log.error("database still locked by another connection; giving up")
                    raise DatabaseBusy("the database stayed locked") from exc
                log.warning("database locked by another connection; retrying in %.1fs", delay)
                await asyncio.sleep(delay)

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once the current transaction has committed (never on rollback).

        Other coroutines share this connection and would see uncommitted rows: wake them
        only when what they will read is final.
        """
        self._after_commit.append(callback)

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> Row | None:
        """One round trip to the database thread (execute, fetch and close together)."""
        rows = await self.conn.execute_fetchall(sql, tuple(params))
        return next(iter(rows), None)

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[Row]:
        return list(await self.conn.execute_fetchall(sql, tuple(params)))

    async def close(self) -> None:
        await self.conn.close()


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]
