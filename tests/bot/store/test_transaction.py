"""``Database.run``: a whole transaction in one hand-off to the database thread, with the
guarantees of ``transaction()`` (all or nothing, after-commit callbacks, busy retries)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.store.db import BusyPolicy, Database, DatabaseBusy, Transaction
from bot.store.housekeeping import bump
from bot.store.open_database import open_database
from bot.store.transaction import NotInline
from tests.bot.support_busy import FAST, LockHolder
from tests.bot.support_hand_offs import count_hand_offs, in_transaction
from tests.bot.support_postgres import fresh_schema


@pytest.fixture
async def db(tmp_path: Path, backend: str) -> AsyncIterator[Database]:
    """A fresh database on each backend (an SQLite file, a PostgreSQL schema)."""
    if backend == "sqlite":
        opened = await Database.open(tmp_path / "f.db", busy=FAST)
        yield opened
        await opened.close()
        return
    with fresh_schema() as url:
        opened = await open_database(url, busy=FAST)
        yield opened
        await opened.close()


async def counter(db: Database, name: str) -> int | None:
    row = await db.fetchone("SELECT value FROM counters WHERE name = ?", (name,))
    return None if row is None else int(row[0])


async def test_a_body_of_many_statements_is_one_hand_off_and_commits(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = count_hand_offs(db, monkeypatch)
    woken: list[int] = []

    async def body(tx: Transaction) -> int | None:
        for _ in range(5):
            await bump(tx, "probe")
        db.after_commit(lambda: woken.append(len(calls)))
        return await counter(db, "probe")  # a read outside tx, inside the body: inline too

    assert await db.run(body) == 5  # the body saw its own writes
    assert len(calls) == 1 and woken == [1]
    assert await counter(db, "probe") == 5


async def test_cursors_fetch_and_named_parameters_work_inline(db: Database) -> None:
    async def body(tx: Transaction) -> tuple[object, ...]:
        await tx.execute("CREATE TABLE t (k TEXT, v INTEGER)")
        cur = await tx.executemany("INSERT INTO t VALUES (?, ?)", [("a", 1), ("b", 2)])
        inserted = cur.rowcount
        async with tx.execute("SELECT v FROM t WHERE k = :k", {"k": "b"}) as named:
            row = await named.fetchone()
        every = await tx.execute_fetchall("SELECT k FROM t ORDER BY k")
        return inserted, row[0] if row else None, [r[0] for r in every]

    assert await db.run(body) == (2, 2, ["a", "b"])


async def test_a_body_may_be_a_single_statement(db: Database) -> None:
    await db.run(lambda tx: tx.execute("CREATE TABLE t (v INTEGER)"))
    cursor = await db.run(lambda tx: tx.execute("INSERT INTO t VALUES (1), (2)"))
    assert cursor.rowcount == 2
    assert [r[0] for r in await db.fetchall("SELECT v FROM t")] == [1, 2]


async def test_a_failing_body_writes_nothing_and_calls_back_nothing(db: Database) -> None:
    called: list[int] = []

    async def body(tx: Transaction) -> None:
        await bump(tx, "probe")
        db.after_commit(lambda: called.append(1))
        raise LookupError("the step went wrong")

    with pytest.raises(LookupError):
        await db.run(body)
    assert called == [] and not in_transaction(db)
    assert await counter(db, "probe") is None
    await db.run(lambda tx: bump(tx, "after"))  # the connection is usable again
    assert await counter(db, "after") == 1


async def test_a_body_that_awaits_anything_else_is_refused_and_rolled_back(
    db: Database,
) -> None:
    async def body(tx: Transaction) -> None:
        await bump(tx, "probe")
        await asyncio.sleep(0)  # would let other coroutines in mid-transaction

    with pytest.raises(NotInline):
        await db.run(body)
    assert not in_transaction(db)
    assert await counter(db, "probe") is None


async def test_run_waits_for_another_process_then_gives_up_having_written_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "f.db"
    db = await Database.open(path, busy=BusyPolicy(timeout_ms=100, retry_delays=(0.2, 0.4)))
    caplog.set_level(logging.WARNING, "bot.store.db")
    with LockHolder(path) as holder:
        holder.release_after(0.25)  # longer than busy_timeout: only a retry gets through
        started = time.monotonic()
        await db.run(lambda tx: bump(tx, "waited"))
        assert time.monotonic() - started >= 0.2
    assert await counter(db, "waited") == 1 and "retrying" in caplog.text
    await db.set_busy(FAST)
    with LockHolder(path), pytest.raises(DatabaseBusy):
        await db.run(lambda tx: bump(tx, "never"))
    assert not in_transaction(db) and await counter(db, "never") is None
    await db.close()


async def test_the_guard_is_entered_once_per_transaction_after_the_lock(
    db: Database,
) -> None:
    entered: list[bool] = []

    class Guard:
        def __enter__(self) -> None:
            entered.append(in_transaction(db))  # BEGIN IMMEDIATE already ran

        def __exit__(self, *exc: object) -> None:
            return None

    db.guard_transactions(Guard)

    async def body(tx: Transaction) -> None:
        for _ in range(3):
            await bump(tx, "probe")

    await db.run(body)
    async with db.transaction() as tx:
        await body(tx)
    assert entered == [True, True]
