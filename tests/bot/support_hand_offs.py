"""Counting hand-offs to the database thread: every call queued for aiosqlite's worker."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bot.store.db import Database


def count_hand_offs(db: Database, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The functions queued for ``db``'s thread from now on, in order."""
    calls: list[object] = []
    original = db.conn._execute

    async def counted(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        calls.append(fn)
        return await original(fn, *args, **kwargs)

    monkeypatch.setattr(db.conn, "_execute", counted)
    return calls
