"""Counting hand-offs to the database thread: every call queued for aiosqlite's worker (or,
on PostgreSQL, for the backend's one-thread executor)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bot.store.db import Database
from bot.store.postgres_db import PostgresDatabase


def count_hand_offs(db: Database, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The functions queued for ``db``'s thread from now on, in order."""
    calls: list[object] = []
    if isinstance(db, PostgresDatabase):
        submit = db._executor.submit

        def submitted(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
            calls.append(fn)
            return submit(fn, *args, **kwargs)

        monkeypatch.setattr(db._executor, "submit", submitted)
        return calls
    original = db.conn._execute

    async def counted(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        calls.append(fn)
        return await original(fn, *args, **kwargs)

    monkeypatch.setattr(db.conn, "_execute", counted)
    return calls


def in_transaction(db: Database) -> bool:
    """Is a transaction open on ``db``'s connection (either backend)?"""
    if isinstance(db, PostgresDatabase):
        return db._pg.in_transaction
    return bool(db.conn.in_transaction)
