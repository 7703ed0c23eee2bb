"""A second process holding the write lock: a write waits and retries, then gives up with
``DatabaseBusy`` having written nothing; a failed COMMIT is rolled back; the dispatcher's
start-up reset waits the lock out instead of dying."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.channels.base import Rendered
from bot.clock import ManualClock
from bot.config import Config
from bot.runtime.app import open_app
from bot.store.db import BusyPolicy, Database, DatabaseBusy
from bot.store.housekeeping import bump
from tests.bot.support_busy import FAST, LockHolder
from tests.bot.support_scheduling import RecordingChannel, enrol_her

OPEN = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)

#: These hold SQLite's file lock from another process (LockHolder): SQLite only.
SQLITE_LOCK_HOLDER = pytest.mark.parametrize("backend", ["sqlite"])


async def counter(db: Database, name: str) -> int | None:
    row = await db.fetchone("SELECT value FROM counters WHERE name = ?", (name,))
    return None if row is None else int(row[0])


async def test_a_write_waits_for_the_other_process_and_commits(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "f.db"
    db = await Database.open(path, busy=BusyPolicy(timeout_ms=100, retry_delays=(0.2, 0.4)))
    caplog.set_level(logging.WARNING, "bot.store.db")
    with LockHolder(path) as holder:
        holder.release_after(0.25)  # longer than busy_timeout: only a retry gets through
        started = time.monotonic()
        async with db.transaction() as tx:
            await bump(tx, "probe")
        waited = time.monotonic() - started
    assert waited >= 0.2
    assert await counter(db, "probe") == 1
    assert "retrying" in caplog.text
    await db.close()


async def test_a_lock_held_past_every_retry_writes_nothing_and_leaves_the_connection_usable(
    tmp_path: Path,
) -> None:
    path = tmp_path / "f.db"
    db = await Database.open(path, busy=FAST)
    ran = False
    with LockHolder(path):
        started = time.monotonic()
        with pytest.raises(DatabaseBusy):
            async with db.transaction() as tx:
                ran = True
                await bump(tx, "probe")
        waited = time.monotonic() - started
    assert not ran and not db.conn.in_transaction
    assert waited >= 3 * 0.06 + 0.05 + 0.1  # three waits of busy_timeout, two pauses
    async with db.transaction() as tx:  # the lock is gone: writes go through again
        await bump(tx, "after")
    assert (await counter(db, "probe"), await counter(db, "after")) == (None, 1)
    await db.close()


async def test_a_failed_commit_is_rolled_back(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "f.db", busy=FAST)
    async with db.transaction() as tx:
        await tx.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
        await tx.execute(
            "CREATE TABLE child (pid INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)"
        )
    called: list[int] = []
    with pytest.raises(sqlite3.IntegrityError):  # the deferred foreign key fails at COMMIT
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO child VALUES (7)")
            db.after_commit(lambda: called.append(1))
    assert not db.conn.in_transaction and called == []
    async with db.transaction() as tx:  # would fail "within a transaction" if left open
        await tx.execute("INSERT INTO parent VALUES (1)")
    assert await db.fetchall("SELECT pid FROM child") == []
    await db.close()


@SQLITE_LOCK_HOLDER
async def test_the_dispatcher_start_up_waits_out_a_locked_database(config: Config) -> None:
    clock = ManualClock(OPEN)
    channel = RecordingChannel(clock)
    app = await open_app(config, {"console": channel}, clock=clock)
    await app.db.set_busy(FAST)
    app.dispatcher.reset_retry_seconds = 0.05
    her = await enrol_her(app, "c:1")
    assert await app.service.begin_contact(her.id, "T0") is not None
    (row,) = await app.service.outbox.due("console", clock.now(), limit=10)
    await app.service.outbox.mark_sending(row.id)  # the last run died during the provider call
    stop = asyncio.Event()
    with LockHolder(app.db.path) as holder:
        task = asyncio.create_task(app.dispatcher.run(stop))
        await asyncio.sleep(0.6)  # two full rounds of retries
        assert channel.sent == [] and not task.done()
        holder.release()
    for _ in range(250):
        if channel.sent:
            break
        await asyncio.sleep(0.02)
    stop.set()
    await asyncio.wait_for(task, 10)
    assert [(a, m.kind) for _, a, m in channel.sent] == [("c:1", "opener")]
    await app.close()


@SQLITE_LOCK_HOLDER
async def test_a_send_the_lock_kept_from_being_recorded_is_recorded_once_it_clears(
    config: Config,
) -> None:
    """Sent, then the lock is taken before the record: the dispatcher waits it out instead of
    leaving the row ``sending`` (her lane blocked, the message never deleted) until a restart."""
    clock = ManualClock(OPEN)
    holder: list[LockHolder] = []

    @dataclass
    class LockedAfterSend(RecordingChannel):
        async def send(self, address: str, message: Rendered) -> str | None:
            ref = await super().send(address, message)
            if not holder:  # another process takes the lock while Telegram/Twilio answers
                holder.append(LockHolder(app.db.path).__enter__())
                holder[0].release_after(0.6)  # outlasts FAST's retries: only the wait gets in
            return ref

    channel = LockedAfterSend(clock)
    app = await open_app(config, {"console": channel}, clock=clock)
    await app.db.set_busy(FAST)
    app.dispatcher.reset_retry_seconds = 0.05
    her = await enrol_her(app, "c:1")
    assert await app.service.begin_contact(her.id, "T0") is not None
    stop = asyncio.Event()
    task = asyncio.create_task(app.dispatcher.run(stop))
    state_sql = "SELECT state FROM outbox WHERE kind = 'message'"
    try:
        for _ in range(250):
            if not holder or holder[0].held:
                await asyncio.sleep(0.02)
                continue
            if await app.db.fetchall(state_sql) == [("sent",)]:
                break
            await asyncio.sleep(0.02)
        assert [tuple(r) for r in await app.db.fetchall(state_sql)] == [("sent",)]
        refs = await app.db.fetchall("SELECT COUNT(*) FROM transcript WHERE direction = 'out'")
        assert [tuple(r) for r in refs] == [(1,)]  # its ref is kept, so it can be deleted
        assert [m.kind for _, _, m in channel.sent] == ["opener"]  # sent once, not again
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        for h in holder:
            h.__exit__(None, None, None)
        await app.close()
