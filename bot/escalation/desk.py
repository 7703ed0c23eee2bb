"""Acknowledge, resolve, annotate and view escalations: ONE implementation for every door.

Telegram buttons, SMS replies, the CLI (and later the dashboard) all call
these methods, so the rules (who, when, what it stops, what is audited) are
the same everywhere. Notes are staff text and are stored sealed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

import aiosqlite

from bot.clock import Clock, iso, parse_iso
from bot.crypto import KeyRing
from bot.escalation.notifier import Notifier
from bot.store.db import Database
from bot.store.escalations import open_reasons
from bot.store.housekeeping import audit

CODE_RE = re.compile(r"^E-?([2-9A-HJKMNP-TV-Z]{5})$")
LEVELS = ("URGENT", "HIGH", "ROUTINE")


class EscalationNotFound(LookupError):
    """No escalation with this code (or the code is malformed)."""


def normalise_code(text: str) -> str | None:
    """'e-4kd9t', 'E4KD9T' -> 'E-4KD9T'; None when it cannot be a code."""
    match = CODE_RE.match(text.strip().upper())
    return f"E-{match.group(1)}" if match else None


@dataclass(frozen=True)
class Outcome:
    """What an ack/resolve did: ``changed`` is False when it was already done."""

    code: str
    action: str
    changed: bool
    state: str
    by: str
    at: datetime


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


@dataclass(frozen=True)
class Detail:
    escalation: Escalation
    notifications: list[aiosqlite.Row] = field(default_factory=list)
    notes: list[tuple[str, str, str]] = field(default_factory=list)


_SELECT = (
    "SELECT e.*, p.pseudonym, g.name AS programme FROM escalations AS e"
    " LEFT JOIN participants AS p ON p.id = e.participant_id"
    " LEFT JOIN programmes AS g ON g.id = e.programme_id"
)


def _escalation(row: aiosqlite.Row, ring: KeyRing) -> Escalation:
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


class Desk:
    def __init__(self, db: Database, ring: KeyRing, clock: Clock, notifier: Notifier) -> None:
        self.db = db
        self.ring = ring
        self.clock = clock
        self.notifier = notifier

    async def find(self, code: str) -> Escalation:
        normal = normalise_code(code)
        row = await self.db.fetchone(_SELECT + " WHERE e.code = ?", (normal,)) if normal else None
        if row is None:
            raise EscalationNotFound(f"no escalation {code.strip()}")
        return _escalation(row, self.ring)

    async def list(self, *, open_only: bool = False, level: str | None = None) -> list[Escalation]:
        where, params = [], []
        if open_only:
            where.append("e.state != 'resolved'")
        if level:
            where.append("e.level = ?")
            params.append(level)
        sql = _SELECT + (" WHERE " + " AND ".join(where) if where else "")
        rows = await self.db.fetchall(sql + " ORDER BY e.raised_at DESC, e.id DESC", params)
        return [_escalation(r, self.ring) for r in rows]

    async def acknowledge(
        self, code: str, by: str, *, via: str, note: str | None = None
    ) -> Outcome:
        return await self._act(code, by, via, "acknowledge", note)

    async def resolve(self, code: str, by: str, *, via: str, note: str | None = None) -> Outcome:
        return await self._act(code, by, via, "resolve", note)

    async def _act(self, code: str, by: str, via: str, action: str, note: str | None) -> Outcome:
        esc = await self.find(code)
        now = self.clock.now()
        actor = f"{by} ({via})"
        async with self.db.transaction() as tx:
            cur = await tx.execute("SELECT state FROM escalations WHERE id = ?", (esc.id,))
            row = await cur.fetchone()
            state = row[0] if row else esc.state
            changed = False
            if action == "acknowledge" and state == "open":
                await tx.execute(
                    "UPDATE escalations SET state = 'acknowledged', acknowledged_at = ?,"
                    " acknowledged_by = ? WHERE id = ?",
                    (iso(now), by, esc.id),
                )
                state, changed = "acknowledged", True
            elif action == "resolve" and state != "resolved":
                await tx.execute(
                    "UPDATE escalations SET state = 'resolved', resolved_at = ?, resolved_by = ?,"
                    " acknowledged_at = COALESCE(acknowledged_at, ?),"
                    " acknowledged_by = COALESCE(acknowledged_by, ?) WHERE id = ?",
                    (iso(now), by, iso(now), by, esc.id),
                )
                state, changed = "resolved", True
            verb = "escalation_acknowledged" if action == "acknowledge" else "escalation_resolved"
            await audit(tx, now, actor, verb if changed else f"{verb}_again", esc.code)
            if changed:
                await self.notifier.stop_alerts(tx, esc.id)
            if note:
                await self._note(tx, esc, actor, note, now)
        return Outcome(esc.code, action, changed, state, by, now)

    async def note(self, code: str, by: str, text: str, *, via: str) -> None:
        esc = await self.find(code)
        async with self.db.transaction() as tx:
            await self._note(tx, esc, f"{by} ({via})", text, self.clock.now())

    async def _note(
        self, tx: aiosqlite.Connection, esc: Escalation, actor: str, text: str, now: datetime
    ) -> None:
        cur = await tx.execute(
            "INSERT INTO escalation_notes (escalation_id, at, author, note_enc)"
            " VALUES (?, ?, ?, x'')",
            (esc.id, iso(now), actor),
        )
        assert cur.lastrowid is not None
        sealed = self.ring.seal_text(text, f"escalation_notes:note:{cur.lastrowid}")
        await tx.execute(
            "UPDATE escalation_notes SET note_enc = ? WHERE id = ?", (sealed, cur.lastrowid)
        )
        await audit(tx, now, actor, "escalation_note", esc.code, f"note {cur.lastrowid}")

    async def view(self, code: str, by: str, *, via: str) -> Detail:
        """The full record, for staff; the view itself is audited."""
        esc = await self.find(code)
        await self.notifier.sync()
        notifications = await self.db.fetchall(
            "SELECT n.*, s.name AS staff FROM escalation_notifications AS n"
            " LEFT JOIN staff AS s ON s.id = n.staff_id WHERE n.escalation_id = ?"
            " ORDER BY n.id",
            (esc.id,),
        )
        notes = [
            (r["at"], r["author"], self.ring.open_text(r["note_enc"], f"escalation_notes:note:{r['id']}"))
            for r in await self.db.fetchall(
                "SELECT * FROM escalation_notes WHERE escalation_id = ? ORDER BY id", (esc.id,)
            )
        ]  # fmt: skip
        async with self.db.transaction() as tx:
            await audit(tx, self.clock.now(), f"{by} ({via})", "escalation_viewed", esc.code)
        return Detail(esc, notifications, notes)

    async def refuse(self, code: str | None, via: str, why: str) -> None:
        """Someone not allowed pressed a button or replied: nothing happens but the audit line."""
        async with self.db.transaction() as tx:
            await audit(
                tx, self.clock.now(), f"unknown ({via})", "escalation_action_refused", code, why
            )
