"""One writer at a time on PostgreSQL, as on SQLite: another connection holding the
installation's writer lock is waited for (``lock_timeout``, then the ``BusyPolicy`` pauses),
and past every try the write is ``DatabaseBusy`` having written nothing."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

from bot.store.db import BusyPolicy, Database, DatabaseBusy
from bot.store.housekeeping import bump
from bot.store.open_database import open_database
from tests.bot.support_busy import FAST
from tests.bot.support_hand_offs import in_transaction

WRITER_LOCK = (
    "SELECT pg_advisory_xact_lock(hashtext(current_database() || '.' || current_schema()))"
)


@contextmanager
def writer_lock_held(url: str, release_after: float | None = None) -> Iterator[None]:
    """Another connection (another process, as far as the server knows) holds the lock."""
    conn = psycopg.connect(url, autocommit=True)
    conn.execute("BEGIN")
    conn.execute(WRITER_LOCK)
    timer = threading.Timer(release_after, conn.rollback) if release_after else None
    if timer is not None:
        timer.start()
    try:
        yield
    finally:
        if timer is not None:
            timer.join()
        conn.execute("ROLLBACK")
        conn.close()


async def counter(db: Database, name: str) -> int | None:
    row = await db.fetchone("SELECT value FROM counters WHERE name = ?", (name,))
    return None if row is None else int(row[0])


async def test_a_write_waits_for_the_other_writer_then_commits(
    postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    db = await open_database(postgres_url, BusyPolicy(timeout_ms=100, retry_delays=(0.2, 0.4)))
    caplog.set_level(logging.WARNING, "bot.store.postgres_db")
    try:
        with writer_lock_held(postgres_url, release_after=0.25):
            started = time.monotonic()
            await db.run(lambda tx: bump(tx, "waited"))
            assert time.monotonic() - started >= 0.2
        assert await counter(db, "waited") == 1 and "retrying" in caplog.text
    finally:
        await db.close()


async def test_a_lock_held_past_every_try_writes_nothing_and_leaves_the_connection_usable(
    postgres_url: str,
) -> None:
    db = await open_database(postgres_url, FAST)
    try:
        with writer_lock_held(postgres_url):
            with pytest.raises(DatabaseBusy):
                await db.run(lambda tx: bump(tx, "never"))
            with pytest.raises(DatabaseBusy):
                async with db.transaction() as tx:
                    await bump(tx, "never")
            assert not in_transaction(db)
            assert await counter(db, "never") is None  # reads never wait for the writer lock
        await db.run(lambda tx: bump(tx, "after"))
        assert await counter(db, "after") == 1
    finally:
        await db.close()
