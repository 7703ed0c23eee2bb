"""The reads of the staff dashboard's pages: lists and counts, never contact data.

Nothing here opens a sealed field; what a page may show (and whether it is audited)
is decided in ``bot.web.pages``. Every read takes the request's ``Scope``: no row of
an organisation outside it is returned.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.store.db import Database
from bot.store.scope import Scope

_LIVE_STATES = "'scheduled', 'sent', 'snoozed', 'in_progress'"
_ENDED_STATES = "'completed', 'declined', 'missed', 'unreachable', 'opted_out', 'withdrawn'"
_PARTICIPANT_LINES = (
    "SELECT p.pseudonym, g.name AS programme, p.status, p.channel,"
    " (SELECT MIN(COALESCE(t.next_action_at, t.due_on)) FROM timepoints AS t"
    f"  WHERE t.participant_id = p.id AND t.state IN ({_LIVE_STATES})) AS next_contact"
    " FROM participants AS p JOIN programmes AS g ON g.id = p.programme_id"
    " WHERE p.status != 'erased'"
)
#: The most participants one list shows.
PARTICIPANT_LIMIT = 500


@dataclass(frozen=True)
class ParticipantLine:
    pseudonym: str
    programme: str
    status: str
    channel: str
    next_contact: str | None  # ISO text: the earliest next action or due date still open


@dataclass(frozen=True)
class TimelineStep:
    due_on: str | None
    state: str


@dataclass(frozen=True)
class ResponseCount:
    """One programme and timepoint (None: a programme with nobody planned yet)."""

    programme: str
    timepoint: str | None
    planned: int
    completed: int
    ended: int


def _like(query: str) -> str:
    """A pseudonym fragment as a LIKE pattern: upper case, its wildcards escaped."""
    escaped = query.upper().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def participant_lines(db: Database, scope: Scope, query: str) -> list[ParticipantLine]:
    """Everyone not erased inside ``scope`` whose pseudonym contains ``query`` (all when
    empty), by pseudonym."""
    where, ids = scope.condition("g.organisation_id")
    sql, params = _PARTICIPANT_LINES + f" AND {where}", list[str | int](ids)
    if query:
        sql, params = sql + " AND p.pseudonym LIKE ? ESCAPE '\\'", [*params, _like(query)]
    rows = await db.fetchall(sql + f" ORDER BY p.pseudonym LIMIT {PARTICIPANT_LIMIT}", params)
    return [
        ParticipantLine(
            r["pseudonym"], r["programme"], r["status"], r["channel"], r["next_contact"]
        )
        for r in rows
    ]


async def timeline(db: Database, participant_id: str) -> dict[str, TimelineStep]:
    """Her planned timepoints by name (``T0`` …), cancelled ones included."""
    rows = await db.fetchall(
        "SELECT timepoint, due_on, state FROM timepoints WHERE participant_id = ?",
        (participant_id,),
    )
    return {r["timepoint"]: TimelineStep(r["due_on"], r["state"]) for r in rows}


async def response_counts(db: Database, scope: Scope) -> list[ResponseCount]:
    """Per programme inside ``scope`` and timepoint: planned, completed and ended attempts
    (not cancelled)."""
    where, ids = scope.condition("g.organisation_id")
    rows = await db.fetchall(
        "SELECT g.name, t.timepoint, COUNT(*) AS planned,"
        " SUM(CASE WHEN t.state = 'completed' THEN 1 ELSE 0 END) AS done,"
        f" SUM(CASE WHEN t.state IN ({_ENDED_STATES}) THEN 1 ELSE 0 END) AS ended"
        " FROM programmes AS g LEFT JOIN participants AS p ON p.programme_id = g.id"
        " LEFT JOIN timepoints AS t ON t.participant_id = p.id AND t.state != 'cancelled'"
        f" WHERE {where} GROUP BY g.name, t.timepoint ORDER BY g.name, t.timepoint",
        ids,
    )
    return [
        ResponseCount(r["name"], r["timepoint"], r["planned"], r["done"] or 0, r["ended"] or 0)
        for r in rows
    ]
