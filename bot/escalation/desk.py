"""Acknowledge, resolve, annotate and view escalations: ONE implementation for every door.

Telegram buttons, SMS replies, the CLI and the dashboard all call these
methods, so the rules (who, when, what it stops, what is audited) are the same
everywhere. Every method takes the caller's ``Scope``: another organisation's
escalation is "not found", and the attempt is audited. Notes are stored sealed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from bot.clock import Clock
from bot.crypto import KeyRing
from bot.escalation.notifier import Notifier
from bot.store import escalation_desk, notifications
from bot.store.db import Database, Transaction
from bot.store.escalation_desk import Escalation
from bot.store.housekeeping import audit
from bot.store.notifications import AlertRecord
from bot.store.scope import OutsideScope, Scope

__all__ = [
    "LEVELS",
    "Desk",
    "Detail",
    "Escalation",
    "EscalationNotFound",
    "Outcome",
    "normalise_code",
]

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
class Detail:
    escalation: Escalation
    notifications: list[AlertRecord] = field(default_factory=list)
    notes: list[tuple[str, str, str]] = field(default_factory=list)


class Desk:
    def __init__(self, db: Database, ring: KeyRing, clock: Clock, notifier: Notifier) -> None:
        self.db = db
        self.ring = ring
        self.clock = clock
        self.notifier = notifier
        self.outside = OutsideScope(db, clock)

    async def find(self, code: str, scope: Scope) -> Escalation:
        """The escalation inside ``scope``; EscalationNotFound otherwise (audited when it
        exists in another organisation)."""
        normal = normalise_code(code)
        found = await escalation_desk.by_code(self.db, self.ring, normal, scope) if normal else None
        if found is None:
            if normal and scope.limited and await escalation_desk.exists(self.db, normal):
                await self.outside.record(scope, "escalation", normal)
            raise EscalationNotFound(f"no escalation {code.strip()}")
        return found

    async def list(
        self, scope: Scope, *, open_only: bool = False, level: str | None = None
    ) -> list[Escalation]:
        return await escalation_desk.newest_first(
            self.db, self.ring, scope, open_only=open_only, level=level
        )

    async def acknowledge(
        self, code: str, by: str, *, scope: Scope, via: str, note: str | None = None
    ) -> Outcome:
        return await self._act(code, by, via, "acknowledge", note, scope)

    async def resolve(
        self, code: str, by: str, *, scope: Scope, via: str, note: str | None = None
    ) -> Outcome:
        return await self._act(code, by, via, "resolve", note, scope)

    async def _act(
        self, code: str, by: str, via: str, action: str, note: str | None, scope: Scope
    ) -> Outcome:
        esc = await self.find(code, scope)
        now = self.clock.now()
        actor = f"{by} ({via})"
        async with self.db.transaction() as tx:
            state = await escalation_desk.state_of(tx, esc.id) or esc.state
            changed = False
            if action == "acknowledge" and state == "open":
                await escalation_desk.mark_acknowledged(tx, esc.id, by, now)
                state, changed = "acknowledged", True
            elif action == "resolve" and state != "resolved":
                await escalation_desk.mark_resolved(tx, esc.id, by, now)
                state, changed = "resolved", True
            verb = "escalation_acknowledged" if action == "acknowledge" else "escalation_resolved"
            await audit(tx, now, actor, verb if changed else f"{verb}_again", esc.code)
            if changed:
                await self.notifier.stop_alerts(tx, esc.id)
            if note:
                await self._note(tx, esc, actor, note, now)
        return Outcome(esc.code, action, changed, state, by, now)

    async def note(self, code: str, by: str, text: str, *, scope: Scope, via: str) -> None:
        esc = await self.find(code, scope)
        async with self.db.transaction() as tx:
            await self._note(tx, esc, f"{by} ({via})", text, self.clock.now())

    async def _note(
        self, tx: Transaction, esc: Escalation, actor: str, text: str, now: datetime
    ) -> None:
        note_id = await escalation_desk.add_note(tx, self.ring, esc.id, actor, text, now)
        await audit(tx, now, actor, "escalation_note", esc.code, f"note {note_id}")

    async def view(self, code: str, by: str, *, scope: Scope, via: str) -> Detail:
        """The full record, for staff; the view itself is audited."""
        esc = await self.find(code, scope)
        await self.notifier.sync()
        alerts = await notifications.alerts_of(self.db, esc.id)
        notes = await escalation_desk.notes_of(self.db, self.ring, esc.id)
        async with self.db.transaction() as tx:
            await audit(tx, self.clock.now(), f"{by} ({via})", "escalation_viewed", esc.code)
        return Detail(esc, alerts, notes)

    async def refuse(self, code: str | None, via: str, why: str) -> None:
        """Someone not allowed pressed a button or replied: nothing happens but the audit line."""
        async with self.db.transaction() as tx:
            await audit(
                tx, self.clock.now(), f"unknown ({via})", "escalation_action_refused", code, why
            )
