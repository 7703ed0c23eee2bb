"""Timepoint rows: what is due for whom, and how far each contact got."""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

import aiosqlite

from bot.clock import iso
from bot.store.db import Database

FINAL_STATES = frozenset({"completed", "missed", "cancelled", "opted_out", "withdrawn"})


async def ensure(
    tx: aiosqlite.Connection, participant_id: str, timepoint: str, due_on: date | None
) -> None:
    await tx.execute(
        "INSERT OR IGNORE INTO timepoints (participant_id, timepoint, due_on) VALUES (?, ?, ?)",
        (participant_id, timepoint, due_on.isoformat() if due_on else None),
    )


async def update(
    tx: aiosqlite.Connection, participant_id: str, timepoint: str, **fields: Any
) -> None:
    """Set columns of one timepoint row; datetimes are stored as ISO UTC text."""
    if not fields:
        return
    values = [iso(v) if isinstance(v, datetime) else v for v in fields.values()]
    assignments = ", ".join(f"{name} = ?" for name in fields)
    await tx.execute(
        f"UPDATE timepoints SET {assignments} WHERE participant_id = ? AND timepoint = ?",
        (*values, participant_id, timepoint),
    )


async def mark_contacted(
    tx: aiosqlite.Connection, participant_id: str, timepoint: str, reminder: int, now: datetime
) -> None:
    """The bookkeeping of ``scheduler.contact.Attempt``, in the transaction of the outbox row.

    An opener sets ``first_sent_at`` (restarting the expiry clock), resets reminders,
    clears a snooze and counts the opener (``openers_sent`` keys the dedupe key);
    a reminder records its number. Both set ``last_sent_at`` and clear the cached
    ``next_action_at`` so the next sweep decides afresh.
    """
    await mark_contacted_many(tx, [(participant_id, timepoint, reminder)], now)


_MARK_REMINDER = (
    "UPDATE timepoints SET reminders_sent = MAX(reminders_sent, ?), last_sent_at = ?,"
    " next_action_at = NULL WHERE participant_id = ? AND timepoint = ?"
)
_MARK_OPENER = (
    "UPDATE timepoints SET state = CASE WHEN state = 'in_progress' THEN state ELSE 'sent' END,"
    " first_sent_at = ?, last_sent_at = ?, reminders_sent = 0, snoozed_until = NULL,"
    " openers_sent = openers_sent + 1, next_action_at = NULL"
    " WHERE participant_id = ? AND timepoint = ?"
)


async def mark_contacted_many(
    tx: aiosqlite.Connection, contacts: list[tuple[str, str, int]], now: datetime
) -> None:
    """``mark_contacted`` for many (participant, timepoint, reminder): one statement per kind."""
    at = iso(now)
    reminders = [(n, at, pid, tp) for pid, tp, n in contacts if n]
    openers = [(at, at, pid, tp) for pid, tp, n in contacts if not n]
    if reminders:
        await tx.executemany(_MARK_REMINDER, reminders)
    if openers:
        await tx.executemany(_MARK_OPENER, openers)


def wave_id(programme_id: int, timepoint: str, due: date | None) -> str | None:
    """A wave: one programme's contacts of one timepoint due on one day (stable, typable)."""
    return None if due is None else f"W{programme_id}-{timepoint}-{due:%Y%m%d}"


#: Rows in these states have not happened yet: a new plan may move or cancel them.
REPLANNABLE = frozenset({"scheduled", "cancelled", "held"})


async def write_plan(
    tx: aiosqlite.Connection,
    participant_id: str,
    programme_id: int,
    plan: dict[str, date | None],
) -> None:
    """Store a plan: new rows are created, rows not yet begun take the new date (or are
    cancelled when it is None), rows that began keep theirs (``replan`` already did)."""
    rows = await (
        await tx.execute(
            "SELECT timepoint, due_on, state FROM timepoints WHERE participant_id = ?",
            (participant_id,),
        )
    ).fetchall()
    existing = {r["timepoint"]: r for r in rows}
    for tp, due in plan.items():
        due_text = due.isoformat() if due else None
        row = existing.get(tp)
        if row is None:
            await tx.execute(
                "INSERT INTO timepoints (participant_id, timepoint, due_on, wave_id)"
                " VALUES (?, ?, ?, ?)",
                (participant_id, tp, due_text, wave_id(programme_id, tp, due)),
            )
            continue
        if row["state"] not in REPLANNABLE:
            continue
        if due is None:
            state = "cancelled" if row["due_on"] else row["state"]
        else:
            state = "scheduled" if row["state"] == "cancelled" else row["state"]
        await tx.execute(
            "UPDATE timepoints SET due_on = ?, wave_id = ?, state = ?, next_action_at = NULL,"
            " send_now_at = NULL WHERE participant_id = ? AND timepoint = ?",
            (due_text, wave_id(programme_id, tp, due), state, participant_id, tp),
        )


async def reset_next_action(tx: aiosqlite.Connection, where: str, params: tuple[Any, ...]) -> None:
    """Forget cached sweep decisions (her windows, status or her programme's rules changed)."""
    await tx.execute(f"UPDATE timepoints SET next_action_at = NULL WHERE {where}", params)


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
PAGE = 1_000
"""Candidate rows read (and held) at a time: 100,000 at once added ~80 MB to the peak RSS."""


def _candidate_params(now: datetime) -> list[str]:
    return [(now + timedelta(days=1)).date().isoformat(), iso(now)]


async def sweep_candidate_ids(
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


async def sweep_candidates_in(
    db: Database, now: datetime, ids: Sequence[int], *, with_held: bool = False
) -> list[aiosqlite.Row]:
    """The candidate rows among ``ids`` (a page of ``sweep_candidate_ids``) that still qualify,
    in sweep order, with what the decision needs about her other timepoints, her session
    and the last opener's fate. A row that changed since the ids were read is re-checked.
    NOT INDEXED: found by id, not by scanning every due row with an index on its state
    (which made a page cost as much as the whole sweep: 100 pages, 100 times the work)."""
    if not ids:
        return []
    sql = candidates_page_sql(len(ids), with_held=with_held)
    return await db.fetchall(sql, [*_candidate_params(now), *ids])


def candidates_page_sql(count: int, *, with_held: bool = False) -> str:
    """The query of ``sweep_candidates_in`` for ``count`` ids (its plan is tested)."""
    marks = ",".join("?" * count)
    where = _CANDIDATE_WHERE + ("" if with_held else _NOT_HELD)
    return f"{_CANDIDATE_COLUMNS}{where} AND t.id IN ({marks}){_CANDIDATE_ORDER}"
