"""Escalation rows: a code, a level and reason codes, never her words (DESIGN.md §6).

The reasons are sealed to the escalation's code: a backup without the key must not
show that a duress word or the safe word was used. The level stays clear (the queue
and the monitor order by it); URGENT alone does not say why.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.clock import iso
from bot.crypto import KeyRing
from bot.store.db import Database
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


def _reasons_aad(code: str) -> str:
    return f"escalations:reasons:{code}"


def seal_reasons(ring: KeyRing, code: str, reasons: tuple[str, ...]) -> bytes:
    return ring.seal(json.dumps(list(reasons)).encode(), _reasons_aad(code))


def open_reasons(ring: KeyRing, code: str, sealed: bytes | None) -> tuple[str, ...]:
    """The reason codes of escalation ``code``; raises if they do not open."""
    if sealed is None:
        return ()
    return tuple(json.loads(ring.open(sealed, _reasons_aad(code))))


async def seal_clear_reasons(db: Database, ring: KeyRing) -> int:
    """Seal the reasons of rows written before migration 9 and empty the clear column.

    A read first, so that opening the app writes nothing once they are all sealed.
    """
    if await db.fetchone("SELECT 1 FROM escalations WHERE reasons_enc IS NULL LIMIT 1") is None:
        return 0
    async with db.transaction() as tx:
        cur = await tx.execute(
            "SELECT id, code, reasons FROM escalations WHERE reasons_enc IS NULL"
        )
        rows = list(await cur.fetchall())
        await tx.executemany(
            "UPDATE escalations SET reasons_enc = ?, reasons = '' WHERE id = ?",
            [
                (seal_reasons(ring, code, tuple(json.loads(clear or "[]"))), row_id)
                for row_id, code, clear in rows
            ],
        )
    return len(rows)


async def raise_escalation(
    tx: aiosqlite.Connection,
    ring: KeyRing,
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
        " level, reasons, reasons_enc, raised_at) VALUES (?, ?, ?, ?, ?, ?, '', ?, ?)",
        (
            code,
            participant_id,
            programme_id,
            session_id,
            timepoint,
            level,
            seal_reasons(ring, code, reasons),
            iso(now),
        ),
    )
    assert cur.lastrowid is not None
    raised = RaisedEscalation(
        cur.lastrowid, code, level, reasons, participant_id, programme_id, pseudonym, timepoint
    )
    await audit(tx, now, "system", "escalation_raised", code, level)  # reasons stay sealed
    for hook in hooks:
        await hook(tx, raised, now)
    return raised


async def has_open_escalation(
    tx: aiosqlite.Connection, ring: KeyRing, participant_id: str, reason: str
) -> bool:
    """A worker has yet to act for her: an escalation of hers is still open (any reason),
    or one for ``reason`` is not resolved yet."""
    cur = await tx.execute(
        "SELECT code, state, reasons_enc FROM escalations"
        " WHERE participant_id = ? AND state != 'resolved'",
        (participant_id,),
    )
    return any(
        state == "open" or reason in open_reasons(ring, code, sealed)
        for code, state, sealed in await cur.fetchall()
    )
