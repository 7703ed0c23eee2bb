"""What staff see of an escalation and what they do to it: find, list, ack, resolve, notes.

The rules (who may, what it stops, what is audited) live in ``bot.escalation.desk``;
this module only reads and writes the rows. Notes are staff text: stored sealed,
bound to their row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.clock import iso, parse_iso
from bot.crypto import KeyRing
from bot.store.db import Database, Row, Transaction
from bot.store.escalations import open_reasons
from bot.store.scope import Scope


@dataclass(frozen=True)
class Escalation:
    id: int
    code: str
    level: str
    reasons: tuple[str, ...]
    state: str
    pseudonym: str
    programme: str
    timepoint: str | None
    raised_at: datetime
    acknowledged_at: str | None
    acknowledged_by: str | None
    resolved_at: str | None
    resolved_by: str | None


_SELECT = (
    "SELECT e.*, p.pseudonym, g.name AS programme FROM escalations AS e"
    " LEFT JOIN participants AS p ON p.id = e.participant_id"
    " LEFT JOIN programmes AS g ON g.id = e.programme_id"
)


def _escalation(row: Row, ring: KeyRing) -> Escalation:
    return Escalation(
        id=row["id"],
        code=row["code"],
        level=row["level"],
        reasons=open_reasons(ring, row["code"], row["reasons_enc"]),
        state=row["state"],
        pseudonym=row["pseudonym"] or "-",
        programme=row["programme"] or "-",
        timepoint=row["timepoint"],
        raised_at=parse_iso(row["raised_at"]),
        acknowledged_at=row["acknowledged_at"],
        acknowledged_by=row["acknowledged_by"],
        resolved_at=row["resolved_at"],
        resolved_by=row["resolved_by"],
    )


async def by_code(db: Database, ring: KeyRing, code: str, scope: Scope) -> Escalation | None:
    """The escalation with this (normalised) code inside ``scope``, with her pseudonym and
    programme."""
    where, ids = scope.condition("g.organisation_id")
    row = await db.fetchone(_SELECT + f" WHERE e.code = ? AND {where}", (code, *ids))
    return _escalation(row, ring) if row is not None else None


async def exists(db: Database, code: str) -> bool:
    """An escalation with this code exists, in any organisation (for the audit of a miss)."""
    return await db.fetchone("SELECT 1 FROM escalations WHERE code = ?", (code,)) is not None


async def newest_first(
    db: Database,
    ring: KeyRing,
    scope: Scope,
    *,
    open_only: bool = False,
    level: str | None = None,
) -> list[Escalation]:
    """Every escalation inside ``scope`` (or the unresolved ones, or one level's), newest
    first."""
    inside, ids = scope.condition("g.organisation_id")
    where, params = [inside], list[str | int](ids)
    if open_only:
        where.append("e.state != 'resolved'")
    if level:
        where.append("e.level = ?")
        params.append(level)
    sql = _SELECT + (" WHERE " + " AND ".join(where) if where else "")
    rows = await db.fetchall(sql + " ORDER BY e.raised_at DESC, e.id DESC", params)
    return [_escalation(r, ring) for r in rows]


async def state_of(tx: Transaction, escalation_id: int) -> str | None:
    """Its state as of now, inside the acting transaction (another door may have acted)."""
    cur = await tx.execute("SELECT state FROM escalations WHERE id = ?", (escalation_id,))
    row = await cur.fetchone()
    return str(row[0]) if row else None


async def mark_acknowledged(tx: Transaction, escalation_id: int, by: str, now: datetime) -> None:
    await tx.execute(
        "UPDATE escalations SET state = 'acknowledged', acknowledged_at = ?,"
        " acknowledged_by = ? WHERE id = ?",
        (iso(now), by, escalation_id),
    )


async def mark_resolved(tx: Transaction, escalation_id: int, by: str, now: datetime) -> None:
    """Resolved, and acknowledged too (by the same person, then) if nobody had."""
    await tx.execute(
        "UPDATE escalations SET state = 'resolved', resolved_at = ?, resolved_by = ?,"
        " acknowledged_at = COALESCE(acknowledged_at, ?),"
        " acknowledged_by = COALESCE(acknowledged_by, ?) WHERE id = ?",
        (iso(now), by, iso(now), by, escalation_id),
    )


def _note_aad(note_id: int) -> str:
    return f"escalation_notes:note:{note_id}"


async def add_note(
    tx: Transaction, ring: KeyRing, escalation_id: int, author: str, text: str, now: datetime
) -> int:
    """Insert a note sealed to its own row id (so first the row, then its sealed text)."""
    cur = await tx.execute(
        "INSERT INTO escalation_notes (escalation_id, at, author, note_enc) VALUES (?, ?, ?, x'')",
        (escalation_id, iso(now), author),
    )
    assert cur.lastrowid is not None
    sealed = ring.seal_text(text, _note_aad(cur.lastrowid))
    await tx.execute(
        "UPDATE escalation_notes SET note_enc = ? WHERE id = ?", (sealed, cur.lastrowid)
    )
    return cur.lastrowid


async def notes_of(db: Database, ring: KeyRing, escalation_id: int) -> list[tuple[str, str, str]]:
    """(at, author, text) of every note on one escalation, oldest first."""
    rows = await db.fetchall(
        "SELECT * FROM escalation_notes WHERE escalation_id = ? ORDER BY id", (escalation_id,)
    )
    return [(r["at"], r["author"], ring.open_text(r["note_enc"], _note_aad(r["id"]))) for r in rows]
