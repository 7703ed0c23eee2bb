"""Timepoint rows: what is due for whom, and how far each contact got."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import aiosqlite

from bot.clock import iso

#: Session outcome -> timepoint state.
OUTCOME_STATES = {
    "completed": "completed",
    "duress": "completed",
    "stopped": "completed",
    "expired": "missed",
    "safe_word": "paused",
    "locked": "paused",
    "opted_out": "opted_out",
    "later": "in_progress",
    "idle": "in_progress",
    "snoozed": "snoozed",
}
FINAL_STATES = frozenset({"completed", "missed", "cancelled", "opted_out", "withdrawn"})


async def ensure(
    tx: aiosqlite.Connection, participant_id: str, timepoint: str, due_on: date | None
) -> None:
    await tx.execute(
        "INSERT OR IGNORE INTO timepoints (participant_id, timepoint, due_on) VALUES (?, ?, ?)",
        (participant_id, timepoint, due_on.isoformat() if due_on else None),
    )


async def update(
    tx: aiosqlite.Connection, participant_id: str, timepoint: str, **fields: Any
) -> None:
    """Set columns of one timepoint row; datetimes are stored as ISO UTC text."""
    if not fields:
        return
    values = [iso(v) if isinstance(v, datetime) else v for v in fields.values()]
    assignments = ", ".join(f"{name} = ?" for name in fields)
    await tx.execute(
        f"UPDATE timepoints SET {assignments} WHERE participant_id = ? AND timepoint = ?",
        (*values, participant_id, timepoint),
    )


async def mark_contacted(
    tx: aiosqlite.Connection, participant_id: str, timepoint: str, reminder: int, now: datetime
) -> None:
    await tx.execute(
        "UPDATE timepoints SET state = CASE WHEN state IN ('in_progress') THEN state ELSE 'sent' END,"
        " first_sent_at = COALESCE(first_sent_at, ?), reminders_sent = MAX(reminders_sent, ?),"
        " snoozed_until = NULL WHERE participant_id = ? AND timepoint = ?",
        (iso(now), reminder, participant_id, timepoint),
    )
