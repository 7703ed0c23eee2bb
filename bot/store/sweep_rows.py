"""The sweep's rows: the timepoints that may need something now, and the sweep's marks on them.

Candidates are read as ids first, then a page of full rows at a time, in one order, each row
re-checked as its page is read; a cached "wait" (``next_action_at``) keeps a row out of the
sweep until it is due, and every change of her windows, status or rules clears it.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import NamedTuple

from bot.clock import iso
from bot.store.db import Database, Transaction

PAGE = 1_000
"""Candidate rows read (and held) at a time: 100,000 at once added ~80 MB to the peak RSS."""


class DueRow(NamedTuple):
    """One candidate: her timepoint row, her contact details (windows sealed), her session
    for it, the fate of its last opener, and what the decision needs of her other rows.
    A named tuple: built 100,000 times a wave sweep, ten times faster than a frozen dataclass."""

    participant_id: str
    timepoint: str
    due_on: str
    state: str
    first_sent_at: str | None
    reminders_sent: int
    snoozed_until: str | None
    last_sent_at: str | None
    openers_sent: int
    send_now_at: str | None
    wave_id: str | None
    pseudonym: str
    programme_id: int
    timezone: str
    windows_enc: bytes | None
    session_id: str | None
    session_phase: str | None
    session_updated: str | None
    opener_state: str | None
    opener_error: str | None
    later_due: str | None
    """The earliest due day (or send-now day) of a later timepoint of hers."""
    other_open: str | None
    """Another timepoint of hers whose attempt is open."""
    her_last_sent: str | None
    """When her other timepoints last sent her something."""


_CANDIDATE_COLUMNS = """
SELECT t.participant_id, t.timepoint, t.due_on, t.state, t.first_sent_at, t.reminders_sent,
       t.snoozed_until, t.last_sent_at, t.openers_sent, t.send_now_at, t.wave_id,
       p.pseudonym, p.programme_id, p.timezone, p.windows_enc,
       s.id AS session_id, s.phase AS session_phase, s.updated_at AS session_updated,
       o.state AS opener_state, o.last_error AS opener_error,
       (SELECT MIN(CASE WHEN l.send_now_at IS NOT NULL AND substr(l.send_now_at, 1, 10)
                          < l.due_on THEN substr(l.send_now_at, 1, 10) ELSE l.due_on END)
          FROM timepoints AS l WHERE l.participant_id = t.participant_id
          AND l.timepoint > t.timepoint AND l.due_on IS NOT NULL
          AND l.state != 'cancelled') AS later_due,
       (SELECT x.timepoint FROM timepoints AS x WHERE x.participant_id = t.participant_id
          AND x.timepoint != t.timepoint AND x.state IN ('sent', 'in_progress', 'snoozed')
          LIMIT 1) AS other_open,
       (SELECT MAX(y.last_sent_at) FROM timepoints AS y WHERE y.participant_id = t.participant_id
          AND y.timepoint != t.timepoint) AS her_last_sent
FROM timepoints AS t NOT INDEXED
JOIN participants AS p ON p.id = t.participant_id
LEFT JOIN sessions AS s ON s.participant_id = t.participant_id AND s.timepoint = t.timepoint
LEFT JOIN outbox AS o
  ON o.dedupe_key = 'opener:' || t.participant_id || ':' || t.timepoint || ':' || t.openers_sent
"""
_CANDIDATE_WHERE = """
WHERE t.state IN ('scheduled', 'sent', 'in_progress', 'snoozed')
  AND t.due_on IS NOT NULL
  AND (t.due_on <= ? OR t.send_now_at IS NOT NULL)
  AND (t.next_action_at IS NULL OR t.next_action_at <= ?)
  AND p.status = 'active' AND p.address_enc IS NOT NULL
"""
#: A held wave's unsent contacts: left out of a real sweep (a held wave of 100,000 must not
#: be re-read every minute), kept in a dry run so staff see them listed as held.
_NOT_HELD = " AND NOT (t.first_sent_at IS NULL AND t.wave_id IN (SELECT wave_id FROM wave_holds))"
_CANDIDATE_ORDER = " ORDER BY t.due_on, t.participant_id, t.timepoint"


def _candidate_params(now: datetime) -> list[str]:
    return [(now + timedelta(days=1)).date().isoformat(), iso(now)]


async def candidate_ids(
    db: Database, now: datetime, wave_id: str | None = None, *, with_held: bool = False
) -> array[int]:
    """The timepoint ids the sweep must look at now, in the order it decides them: open or due
    (in any zone: due by tomorrow in UTC), of an active, linked partner, with no cached
    decision for later. Ids only (8 bytes each): the rows are read a page at a time."""
    sql = "SELECT t.id FROM timepoints AS t JOIN participants AS p ON p.id = t.participant_id"
    sql += _CANDIDATE_WHERE + ("" if with_held else _NOT_HELD)
    params = _candidate_params(now)
    if wave_id is not None:
        sql, params = sql + " AND t.wave_id = ?", [*params, wave_id]
    rows = await db.fetchall(sql + _CANDIDATE_ORDER, params)
    return array("q", (r[0] for r in rows))


async def candidates_in(
    db: Database, now: datetime, ids: Sequence[int], *, with_held: bool = False
) -> list[DueRow]:
    """The candidate rows among ``ids`` (a page of ``candidate_ids``) that still qualify,
    in sweep order, with what the decision needs about her other timepoints, her session
    and the last opener's fate. A row that changed since the ids were read is re-checked.
    NOT INDEXED: found by id, not by scanning every due row with an index on its state
    (which made a page cost as much as the whole sweep: 100 pages, 100 times the work)."""
    if not ids:
        return []
    sql = candidates_page_sql(len(ids), with_held=with_held)
    return [DueRow._make(row) for row in await db.fetchall(sql, [*_candidate_params(now), *ids])]


def candidates_page_sql(count: int, *, with_held: bool = False) -> str:
    """The query of ``candidates_in`` for ``count`` ids (its plan is tested)."""
    marks = ",".join("?" * count)
    where = _CANDIDATE_WHERE + ("" if with_held else _NOT_HELD)
    return f"{_CANDIDATE_COLUMNS}{where} AND t.id IN ({marks}){_CANDIDATE_ORDER}"


# --- the sweep's marks ---------------------------------------------------------------


async def cache_waits(tx: Transaction, waits: Sequence[tuple[str | None, str, str]]) -> None:
    """Remember when to look again at each (when, participant, timepoint): one statement."""
    await tx.executemany(
        "UPDATE timepoints SET next_action_at = ? WHERE participant_id = ? AND timepoint = ?",
        waits,
    )


async def forget_decisions(tx: Transaction) -> int:
    """Clear every open attempt's cached decision; returns how many were cleared."""
    cur = await tx.execute(
        "UPDATE timepoints SET next_action_at = NULL"
        " WHERE state IN ('scheduled', 'sent', 'in_progress', 'snoozed')"
        " AND next_action_at IS NOT NULL"
    )
    return cur.rowcount


async def reopen_unsent_opener(tx: Transaction, participant_id: str, timepoint: str) -> None:
    """Her opener was dropped unsent (window closed): the attempt is scheduled again."""
    await tx.execute(
        "UPDATE timepoints SET state = 'scheduled', first_sent_at = NULL,"
        " last_sent_at = NULL WHERE participant_id = ? AND timepoint = ?",
        (participant_id, timepoint),
    )


async def mark_missed(tx: Transaction, participant_id: str, timepoint: str, now: datetime) -> None:
    """An attempt that ran out (or was superseded) ends as missed, if it is still open."""
    await tx.execute(
        "UPDATE timepoints SET state = 'missed', ended_at = ?, next_action_at = NULL"
        " WHERE participant_id = ? AND timepoint = ?"
        " AND state IN ('scheduled', 'sent', 'in_progress', 'snoozed')",
        (iso(now), participant_id, timepoint),
    )
