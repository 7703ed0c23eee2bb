"""One SQLite database, one connection, one writer at a time.

The service runs on a single asyncio loop: a lock serialises transactions so
two coroutines never interleave statements inside one. ``run`` puts a whole
transaction (BEGIN, its reads and writes, COMMIT) into ONE hand-off to the
database thread; ``transaction()`` hands off each statement (for bodies that
must await other things). WAL with
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
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractContextManager, asynccontextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar, cast

import aiosqlite

from bot.private_files import ensure_private_file
from bot.store.schema import MIGRATIONS, REBUILDS
from bot.store.transaction import HandOff, Params, Row, Transaction, drive

__all__ = ["BusyPolicy", "Database", "DatabaseBusy", "Row", "Transaction", "is_busy"]

T = TypeVar("T")
#: Entered after ``BEGIN IMMEDIATE`` and left at the end of every transaction (the key ring's
#: one key-file check per transaction, ``KeyRing.checked_once``).
TransactionGuard = Callable[[], AbstractContextManager[object]]

log = logging.getLogger(__name__)

#: SQLite's own wait for the write lock, per attempt.
BUSY_TIMEOUT_MS = 4_000
#: Pauses before the further attempts. Worst case about 3 x 4 s + 1.5 s = 13.5 s: within
#: Twilio's 15 s webhook read timeout, so she gets a 503 (and a retry), not a dropped call.
BUSY_RETRY_DELAYS = (0.5, 1.0)
_BUSY_CODES = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)

#: PostgreSQL's SQLSTATE for a lock not taken within ``lock_timeout`` (``postgres_db``).
POSTGRES_LOCK_NOT_AVAILABLE = "55P03"

#: How long ``GET /readyz`` waits for the database before saying it is not ready.
READY_TIMEOUT_SECONDS = 2.0

_RETRY = object()  # BEGIN IMMEDIATE found the lock taken: pause and try again


@dataclass(frozen=True)
class BusyPolicy:
    """How long a write waits for another connection's lock (tests make it short)."""

    timeout_ms: int = BUSY_TIMEOUT_MS
    retry_delays: tuple[float, ...] = BUSY_RETRY_DELAYS


class DatabaseBusy(Exception):
    """Another connection held the write lock through every try: nothing was written."""


def is_busy(exc: BaseException) -> bool:
    """SQLITE_BUSY or SQLITE_LOCKED (extended codes included); PostgreSQL's lock_timeout."""
    if getattr(exc, "sqlstate", None) == POSTGRES_LOCK_NOT_AVAILABLE:
        return True
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
        self._guard: TransactionGuard = nullcontext
        # aiosqlite 0.20/0.21 internals: the sqlite3 connection its thread owns, and the call
        # that queues a function for that thread. Touched only from that thread.
        self._sqlite: sqlite3.Connection = conn._conn
        self._hand_off: HandOff = self._to_thread
        self._reads = Transaction(self._sqlite, self._hand_off)
        self._inline: Transaction | None = None  # the body ``run`` is driving, in the thread

    async def _to_thread(self, fn: Callable[[], T]) -> T:
        """One hand-off: run ``fn`` in the database thread (aiosqlite's queue) and wait."""
        result: T = await cast(HandOff, self.conn._execute)(fn)
        return result

    def guard_transactions(self, guard: TransactionGuard) -> None:
        """Enter ``guard()`` once per transaction, after its write lock is taken."""
        self._guard = guard

    @classmethod
    async def open(
        cls, path: str | Path, busy: BusyPolicy | None = None, *, migrate: bool = True
    ) -> Database:
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
        if migrate:
            await db.migrate()
        return db

    async def schema_version(self) -> int:
        """The number of the last migration run (0: an empty database)."""
        async with self.conn.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def migrate(self) -> int:
        """Run every migration past ``user_version``, each in its own transaction."""
        version = await self.schema_version()
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

    def latest_version(self) -> int:
        """The number of the last migration this code knows."""
        return len(MIGRATIONS)

    async def not_ready(self) -> str | None:
        """Why this process should get no traffic (None: ready): the database does not
        answer in time, or its migrations are behind the code's (``GET /readyz``)."""
        try:
            async with asyncio.timeout(READY_TIMEOUT_SECONDS):
                version = await self.schema_version()
        except Exception:  # any failure to answer is "not ready", never a 500
            return "database unreachable"
        if version < self.latest_version():
            return f"migrations behind ({version} of {self.latest_version()})"
        return None

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
                with self._guard():
                    yield Transaction(self._sqlite, self._hand_off)
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

    async def run(self, body: Callable[[Transaction], Awaitable[T]]) -> T:
        """``body(tx)`` as one transaction in ONE hand-off to the database thread.

        BEGIN IMMEDIATE, every statement of ``body`` and COMMIT run there in one call: its
        awaits on ``tx`` (and on this database's ``fetchone``/``fetchall``) never suspend.
        ``body`` must await nothing else (``NotInline``, rolled back). Same guarantees as
        ``transaction()``: all or nothing, ``DatabaseBusy`` when the lock stays taken,
        ``after_commit`` callbacks on the loop once committed. A caller cancelled meanwhile
        does not stop the body: it still commits or rolls back whole (its callbacks are lost).
        """
        async with self._write:
            self._after_commit = []
            delays = iter(self.busy.retry_delays)
            try:
                while True:
                    result = await self._hand_off(lambda: self._in_thread(body))
                    if result is not _RETRY:
                        break
                    delay = next(delays, None)
                    if delay is None:
                        log.error("database still locked by another connection; giving up")
                        raise DatabaseBusy("the database stayed locked")
                    log.warning("database locked by another connection; retrying in %.1fs", delay)
                    await asyncio.sleep(delay)
            except BaseException:
                self._after_commit = []
                raise
            callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()
        return cast(T, result)

    def _in_thread(self, body: Callable[[Transaction], Awaitable[T]]) -> T | object:
        """In the database thread: one whole transaction, or ``_RETRY`` if BEGIN was refused."""
        conn = self._sqlite
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if is_busy(exc):
                return _RETRY
            raise
        tx = Transaction(conn, None)
        self._inline = tx
        try:
            with self._guard():
                result: T = drive(body(tx))
        except BaseException as exc:
            self._inline = None
            if conn.in_transaction:  # SQLite may have rolled back already (e.g. SQLITE_FULL)
                conn.execute("ROLLBACK")
            if is_busy(exc):
                raise DatabaseBusy("a statement found the database locked") from exc
            raise
        self._inline = None
        try:
            conn.execute("COMMIT")
        except BaseException as exc:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            if is_busy(exc):
                raise DatabaseBusy("COMMIT found the database locked") from exc
            raise
        return result

    def reader(self) -> Transaction:
        """Where reads outside a ``Transaction`` go: inside a ``run`` body (in the database
        thread) that body's transaction, elsewhere a hand-off per statement."""
        inline = self._inline
        if inline is not None and threading.get_ident() == self.conn.ident:
            return inline
        return self._reads

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once the current transaction has committed (never on rollback).

        Other coroutines share this connection and would see uncommitted rows: wake them
        only when what they will read is final.
        """
        self._after_commit.append(callback)

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        """One round trip to the database thread (none inside a ``run`` body)."""
        return await self.reader().fetchone(sql, params)

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        return await self.reader().fetchall(sql, params)

    async def fold_wal(self) -> None:
        """Old page images in the WAL would still hold deleted rows: fold them in and truncate
        (best effort: a reader in another process can keep part of the WAL alive)."""
        await self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    async def close(self) -> None:
        await self.conn.close()


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]
