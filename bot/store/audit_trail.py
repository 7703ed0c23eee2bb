"""Reading the audit log back: who did what when, for everyone or for one participant.

Subjects are pseudonyms, escalation codes and names only, so reading the log shows no
contact data. A limited scope sees only entries whose subject lies inside it (one of its
partners, escalations, programmes, staff or organisations).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.store.db import Database
from bot.store.participants import Participant
from bot.store.scope import Scope

#: What an entry's subject can name, and the organisation column that places it.
_SUBJECTS = (
    ("SELECT p.pseudonym FROM participants AS p JOIN programmes AS g ON g.id = p.programme_id",
     "g.organisation_id"),
    ("SELECT e.code FROM escalations AS e JOIN programmes AS g ON g.id = e.programme_id",
     "g.organisation_id"),
    ("SELECT g.name FROM programmes AS g", "g.organisation_id"),
    ("SELECT s.name FROM staff AS s JOIN staff_organisations AS so ON so.staff_id = s.id",
     "so.organisation_id"),
    ("SELECT o.name FROM organisations AS o", "o.id"),
)  # fmt: skip


@dataclass(frozen=True)
class AuditEntry:
    at: str
    actor: str
    action: str
    subject: str | None
    detail: str | None


async def newest_entries(
    db: Database, scope: Scope, limit: int, *, about: Participant | None = None
) -> list[AuditEntry]:
    """The newest ``limit`` entries inside ``scope``, newest first; with a participant,
    only those about her (her pseudonym) or about her escalations (their codes)."""
    where: list[str] = []
    params: list[str | int] = []
    if about is not None:
        where.append(
            "(subject = ? OR subject IN (SELECT code FROM escalations WHERE participant_id = ?))"
        )
        params += [about.pseudonym, about.id]
    if scope.limited:
        inside = []
        for subjects, column in _SUBJECTS:
            condition, ids = scope.condition(column)
            inside.append(f"subject IN ({subjects} WHERE {condition})")
            params += ids
        where.append("(" + " OR ".join(inside) + ")")
    sql = "SELECT * FROM audit_log" + (" WHERE " + " AND ".join(where) if where else "")
    rows = await db.fetchall(sql + " ORDER BY id DESC LIMIT ?", [*params, limit])
    return [AuditEntry(r["at"], r["actor"], r["action"], r["subject"], r["detail"]) for r in rows]
