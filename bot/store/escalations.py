"""Escalation rows: a code, a level and reason codes, never her words (DESIGN.md §6)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.clock import iso
from bot.store.housekeeping import audit
from bot.store.ids import new_escalation_code


@dataclass(frozen=True)
class RaisedEscalation:
    id: int
    code: str
    level: str
    reasons: tuple[str, ...]
    participant_id: str | None
    programme_id: int | None
    pseudonym: str | None
    timepoint: str | None


#: Called inside the raising transaction (e.g. to write the first notifications).
EscalationHook = Callable[[aiosqlite.Connection, RaisedEscalation, datetime], Awaitable[None]]


async def raise_escalation(
    tx: aiosqlite.Connection,
    *,
    level: str,
    reasons: tuple[str, ...],
    now: datetime,
    participant_id: str | None,
    programme_id: int | None,
    pseudonym: str | None,
    session_id: str | None = None,
    timepoint: str | None = None,
    hooks: tuple[EscalationHook, ...] = (),
) -> RaisedEscalation:
    """Insert an escalation, audit it and run the hooks, all in the caller's transaction."""
    for _ in range(20):
        code = new_escalation_code()
        cur = await tx.execute("SELECT 1 FROM escalations WHERE code = ?", (code,))
        if not await cur.fetchone():
            break
    cur = await tx.execute(
        "INSERT INTO escalations (code, participant_id, programme_id, session_id, timepoint,"
        " level, reasons, raised_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            code,
            participant_id,
            programme_id,
            session_id,
            timepoint,
            level,
            json.dumps(list(reasons)),
            iso(now),
        ),
    )
    assert cur.lastrowid is not None
    raised = RaisedEscalation(
        cur.lastrowid, code, level, reasons, participant_id, programme_id, pseudonym, timepoint
    )
    await audit(tx, now, "system", "escalation_raised", code, f"{level} {','.join(reasons)}")
    for hook in hooks:
        await hook(tx, raised, now)
    return raised


async def has_open_escalation(tx: aiosqlite.Connection, participant_id: str, reason: str) -> bool:
    """A worker has yet to act for her: an escalation of hers is still open (any reason),
    or one for ``reason`` is not resolved yet."""
    cur = await tx.execute(
        "SELECT state, reasons FROM escalations WHERE participant_id = ? AND state != 'resolved'",
        (participant_id,),
    )
    return any(
        state == "open" or reason in json.loads(reasons) for state, reasons in await cur.fetchall()
    )
