"""Reading the audit log back: who did what when, for everyone or for one participant.

Subjects are pseudonyms and escalation codes only, so reading the log shows no contact data.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.store.db import Database
from bot.store.participants import Participant


@dataclass(frozen=True)
class AuditEntry:
    at: str
    actor: str
    action: str
    subject: str | None
    detail: str | None


async def newest_entries(
    db: Database, limit: int, *, about: Participant | None = None
) -> list[AuditEntry]:
    """The newest ``limit`` entries, newest first; with a participant, only those about her
    (her pseudonym) or about her escalations (their codes)."""
    sql, params = "SELECT * FROM audit_log", []
    if about is not None:
        sql += (
            " WHERE subject = ? OR subject IN"
            " (SELECT code FROM escalations WHERE participant_id = ?)"
        )
        params = [about.pseudonym, about.id]
    rows = await db.fetchall(sql + " ORDER BY id DESC LIMIT ?", [*params, limit])
    return [AuditEntry(r["at"], r["actor"], r["action"], r["subject"], r["detail"]) for r in rows]
