"""The same ``Database`` on PostgreSQL: one psycopg connection in one dedicated thread.

Shape kept from SQLite (``bot/store/db.py``): ``run(body)`` puts BEGIN, every statement of the
body and COMMIT into ONE hand-off to the database thread (``drive``); ``transaction()`` hands
off each statement. SQLite's ``BEGIN IMMEDIATE`` (one writer at a time) becomes ``BEGIN`` plus
a transaction-scoped advisory lock on this installation (database and schema), waited for up
to ``lock_timeout``, then tried again after the ``BusyPolicy`` pauses, then ``DatabaseBusy``.
Reads outside a transaction run in autocommit on the same connection (as on SQLite, they see
the writes of a transaction still open on it: wake other coroutines only after commit).

Invariant: only the database thread touches the connection; the URL is never logged with a
password (``redact_database_url``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, nullcontext
from pathlib import Path
from typing import Any, TypeVar, cast

import psycopg

from bot.config import redact_database_url
from bot.store.db import _RETRY, BusyPolicy, Database, DatabaseBusy, is_busy
from bot.store.postgres_connection import PgConnection, connect
from bot.store.schema_postgres import POSTGRES_MIGRATIONS, VERSION_TABLE
from bot.store.transaction import HandOff, Transaction, drive

__all__ = ["PostgresDatabase"]

T = TypeVar("T")
log = logging.getLogger(__name__)


class PostgresDatabase(Database):
    """An open PostgreSQL database with migrations applied (same API as ``Database``)."""

    def __init__(
        self,
        pg: PgConnection,
        executor: ThreadPoolExecutor,
        thread_id: int,
        writer_lock: int,
        url: str,
        busy: BusyPolicy,
    ) -> None:
        # Not Database.__init__: that one wraps an aiosqlite connection.
        self.path = Path()
        self.url = redact_database_url(url)
        self.busy = busy
        self._pg = pg
        self._executor = executor
        self._thread_id = thread_id
        self._writer_lock = writer_lock
        self._write = asyncio.Lock()
        self._after_commit = []
        self._guard = nullcontext
        self._hand_off: HandOff = self._to_thread
        self._reads = Transaction(pg, self._hand_off)
        self._inline = None

    async def _to_thread(self, fn: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, fn)

    @classmethod
    async def open_url(
        cls, url: str, busy: BusyPolicy | None = None, *, migrate: bool = True
    ) -> PostgresDatabase:
        policy = busy or BusyPolicy()
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="followup-postgres")
        loop = asyncio.get_running_loop()

        def opened() -> tuple[PgConnection, int, int]:
            pg = connect(url, policy.timeout_ms)
            row = pg.raw.execute(
                "SELECT hashtext(current_database() || '.' || current_schema())"
            ).fetchone()
            return pg, threading.get_ident(), int(cast(Any, row)[0])

        try:
            pg, thread_id, lock = await loop.run_in_executor(executor, opened)
        except BaseException:
            executor.shutdown(wait=False)
            raise
        log.info("database: %s", redact_database_url(url))
        db = cls(pg, executor, thread_id, lock, url, policy)
        if migrate:
            await db.migrate()
        return db

    async def schema_version(self) -> int:
        def version() -> int:
            found = self._pg.raw.execute(
                "SELECT 1 FROM pg_tables WHERE tablename = %s AND schemaname = current_schema()",
                (VERSION_TABLE,),
            ).fetchone()
            if found is None:
                return 0
            row = self._pg.raw.execute(f"SELECT max(version) FROM {VERSION_TABLE}").fetchone()
            return int(row[0]) if row is not None and row[0] is not None else 0

        found: int = await self._hand_off(version)
        return found

    def latest_version(self) -> int:
        return len(POSTGRES_MIGRATIONS)

    async def migrate(self) -> int:
        """Run every migration past ``schema_version``, each in its own transaction."""
        async with self._write:
            await self._hand_off(self._migrate_in_thread)
        return len(POSTGRES_MIGRATIONS)

    def _migrate_in_thread(self) -> None:
        raw = self._pg.raw
        for number, script in enumerate(POSTGRES_MIGRATIONS, start=1):
            self._begin_in_thread()
            try:
                raw.execute(
                    f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (version INTEGER NOT NULL)"
                )
                row = raw.execute(f"SELECT max(version) FROM {VERSION_TABLE}").fetchone()
                version = int(row[0]) if row is not None and row[0] is not None else 0
                if version < number:
                    for statement in (s.strip() for s in script.split(";")):
                        if statement:
                            self._pg.script(statement)
                    raw.execute(f"DELETE FROM {VERSION_TABLE}")
                    raw.execute(f"INSERT INTO {VERSION_TABLE} (version) VALUES (%s)", (number,))
                raw.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(psycopg.Error):
                    raw.execute("ROLLBACK")
                raise

    async def set_busy(self, policy: BusyPolicy) -> None:
        await self._hand_off(lambda: self._pg.set_lock_timeout(policy.timeout_ms))
        self.busy = policy

    def _begin_in_thread(self) -> None:
        """BEGIN and the installation's writer lock (raises LockNotAvailable past lock_timeout)."""
        raw = self._pg.raw
        raw.execute("BEGIN")
        try:
            raw.execute("SELECT pg_advisory_xact_lock(%s)", (self._writer_lock,))
        except BaseException:
            with contextlib.suppress(psycopg.Error):
                raw.execute("ROLLBACK")
            raise

    def _rollback_in_thread(self) -> None:
        if self._pg.in_transaction:
            with contextlib.suppress(psycopg.Error):
                self._pg.raw.execute("ROLLBACK")

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        async with self._write:
            self._after_commit = []
            await self._begin()
            try:
                with self._guard():
                    yield Transaction(self._pg, self._hand_off)
            except BaseException as exc:
                await self._hand_off(self._rollback_in_thread)
                self._after_commit = []
                if is_busy(exc):
                    raise DatabaseBusy("a statement found the database locked") from exc
                raise
            try:
                await self._hand_off(lambda: self._pg.raw.execute("COMMIT"))
            except BaseException as exc:
                await self._hand_off(self._rollback_in_thread)
                self._after_commit = []
                if is_busy(exc):
                    raise DatabaseBusy("COMMIT found the database locked") from exc
                raise
            callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()

    async def _begin(self) -> None:
        delays = iter(self.busy.retry_delays)
        while True:
            try:
                await self._hand_off(self._begin_in_thread)
                return
            except psycopg.Error as exc:
                if not is_busy(exc):
                    raise
                delay = next(delays, None)
                if delay is None:
                    log.error("database still locked by another connection; giving up")
                    raise DatabaseBusy("the database stayed locked") from exc
                log.warning("database locked by another connection; retrying in %.1fs", delay)
                await asyncio.sleep(delay)

    def _in_thread(self, body: Callable[[Transaction], Awaitable[T]]) -> T | object:
        try:
            self._begin_in_thread()
        except psycopg.Error as exc:
            if is_busy(exc):
                return _RETRY
            raise
        tx = Transaction(self._pg, None)
        self._inline = tx
        try:
            with self._guard():
                result: T = drive(body(tx))
        except BaseException as exc:
            self._inline = None
            self._rollback_in_thread()
            if is_busy(exc):
                raise DatabaseBusy("a statement found the database locked") from exc
            raise
        self._inline = None
        try:
            self._pg.raw.execute("COMMIT")
        except BaseException as exc:
            self._rollback_in_thread()
            if is_busy(exc):
                raise DatabaseBusy("COMMIT found the database locked") from exc
            raise
        return result

    def reader(self) -> Transaction:
        inline = self._inline
        if inline is not None and threading.get_ident() == self._thread_id:
            return inline
        return self._reads

    async def fold_wal(self) -> None:
        """Nothing to fold: PostgreSQL's WAL is the server's (VACUUM reclaims dead rows)."""

    async def close(self) -> None:
        if self._pg.raw.closed:
            return
        try:
            await self._hand_off(self._pg.close)
        finally:
            self._executor.shutdown(wait=False)
