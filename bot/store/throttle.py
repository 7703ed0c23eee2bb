"""Counted failures per blind-indexed key in a sliding window (bad Telegram /start tokens).

The key is a blind index, never the chat id in clear; rows older than the window are
pruned whenever the count is read.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.clock import iso, parse_iso
from bot.store.db import Transaction


async def recent_failures(tx: Transaction, key: bytes, now: datetime, window: timedelta) -> int:
    """Failures of ``key`` within ``window`` before ``now`` (older rows are deleted first)."""
    await tx.execute("DELETE FROM throttle WHERE since < ?", (iso(now - window),))
    cur = await tx.execute("SELECT count, since FROM throttle WHERE key = ?", (key,))
    row = await cur.fetchone()
    if row is None or parse_iso(row["since"]) < now - window:
        return 0
    return int(row["count"])


async def count_failure(tx: Transaction, key: bytes, tries: int, now: datetime) -> None:
    """One more failure; ``tries`` is what ``recent_failures`` said (0 opens a new window)."""
    if tries == 0:
        await tx.execute(
            "INSERT INTO throttle (key, count, since) VALUES (?, 1, ?)"
            " ON CONFLICT (key) DO UPDATE SET count = 1, since = excluded.since",
            (key, iso(now)),
        )
    else:
        await tx.execute("UPDATE throttle SET count = count + 1 WHERE key = ?", (key,))
