"""Escalation rows: a code, a level and reason codes, never her words (DESIGN.md §6).

Raising one, and reading what an alert about it may say (``AlertFacts``: no answers, no
contact details).

The reasons are sealed to the escalation's code: a backup without the key must not
show that a duress word or the safe word was used. The level stays clear (the queue
and the monitor order by it); URGENT alone does not say why.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from bot.clock import iso, parse_iso
from bot.crypto import KeyRing
from bot.store.db import Database, Transaction
from bot.store.housekeeping import audit
from bot.store.ids import new_escalation_code
from scheduler.windows import DEFAULT_SPEC


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
EscalationHook = Callable[[Transaction, RaisedEscalation, datetime], Awaitable[None]]


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
    tx: Transaction,
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
    tx: Transaction, ring: KeyRing, participant_id: str, reason: str
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


@dataclass(frozen=True)
class AlertFacts:
    """Everything an alert may say; deliberately no answers and no contact details."""

    code: str
    level: str
    reasons: tuple[str, ...]
    raised_at: datetime
    pseudonym: str
    programme: str
    programme_zone: str
    her_window: str
    her_zone: str
    her_channel: str


async def alert_facts(tx: Transaction, ring: KeyRing, escalation_id: int) -> AlertFacts:
    """Read one escalation with her pseudonym, programme and contact settings."""
    cur = await tx.execute(
        "SELECT e.code, e.level, e.reasons_enc, e.raised_at, e.participant_id,"
        " p.pseudonym, p.windows_enc, p.timezone AS her_zone, p.channel,"
        " g.name AS programme, g.timezone AS programme_zone"
        " FROM escalations AS e LEFT JOIN participants AS p ON p.id = e.participant_id"
        " LEFT JOIN programmes AS g ON g.id = e.programme_id WHERE e.id = ?",
        (escalation_id,),
    )
    row = await cur.fetchone()
    if row is None:
        raise LookupError(f"no escalation {escalation_id}")
    window = DEFAULT_SPEC
    if row["windows_enc"]:
        aad = f"participants:windows:{row['participant_id']}"
        window = ring.open_text(row["windows_enc"], aad) or DEFAULT_SPEC
    return AlertFacts(
        code=row["code"],
        level=row["level"],
        reasons=open_reasons(ring, row["code"], row["reasons_enc"]),
        raised_at=parse_iso(row["raised_at"]),
        pseudonym=row["pseudonym"] or "-",
        programme=row["programme"] or "-",
        programme_zone=row["programme_zone"] or "UTC",
        her_window=window,
        her_zone=row["her_zone"] or "UTC",
        her_channel=row["channel"] or "-",
    )
