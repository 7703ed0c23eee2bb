"""Waves in the store: counts by state, holds, send-now marks and how far a wave's rows got.

A wave id is stored on each timepoint row when it is planned; a held wave is a row of
``wave_holds``. The effective state of a row is the one staff act on: her status beats an
open attempt's state (nobody is contacted while paused), a held wave's unsent rows are held.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from bot.clock import iso
from bot.store.db import Database, Transaction
from bot.store.scope import Scope

_EFFECTIVE_STATE = """
CASE
  WHEN t.state IN ('scheduled', 'sent', 'in_progress', 'snoozed')
       AND p.status IN ('unreachable', 'opted_out', 'paused') THEN p.status
  WHEN t.state = 'scheduled' AND h.wave_id IS NOT NULL THEN 'held'
  WHEN t.state = 'snoozed' THEN 'sent'
  WHEN t.state = 'withdrawn' THEN 'opted_out'
  ELSE t.state
END
"""
OUTBOX_KEYS_PER_QUERY = 500
"""Dedupe keys per ``IN (...)``: well inside SQLite's limit on bound parameters."""


@dataclass(frozen=True)
class WaveCount:
    """How many of one wave's rows are in one effective state."""

    wave_id: str
    programme: str
    timepoint: str
    due: date
    held: bool
    state: str
    count: int


async def wave_counts(
    db: Database,
    scope: Scope,
    programme: str | None = None,
    first: date | None = None,
    last: date | None = None,
) -> list[WaveCount]:
    """Counts by wave and effective state, oldest wave first; cancelled timepoints and
    withdrawn or erased partners are not counted."""
    sql = (
        f"SELECT t.wave_id, g.name, t.timepoint, t.due_on, h.wave_id IS NOT NULL AS held,"
        f" {_EFFECTIVE_STATE} AS st, COUNT(*) AS n"
        " FROM timepoints AS t JOIN participants AS p ON p.id = t.participant_id"
        " JOIN programmes AS g ON g.id = p.programme_id"
        " LEFT JOIN wave_holds AS h ON h.wave_id = t.wave_id"
        " WHERE t.wave_id IS NOT NULL AND t.state != 'cancelled'"
        " AND p.status NOT IN ('withdrawn', 'erased')"
    )
    where, ids = scope.condition("g.organisation_id")
    sql += f" AND {where}"
    params: list[str | int] = list(ids)
    if programme is not None:
        sql, params = sql + " AND g.name = ?", [*params, programme]
    if first is not None:
        sql, params = sql + " AND t.due_on >= ?", [*params, first.isoformat()]
    if last is not None:
        sql, params = sql + " AND t.due_on <= ?", [*params, last.isoformat()]
    # A wave id names one programme, timepoint and day: grouping by them too changes no group
    # (and PostgreSQL wants every selected column grouped).
    sql += (
        " GROUP BY t.wave_id, st, g.name, t.timepoint, t.due_on, h.wave_id"
        " ORDER BY t.due_on, g.name, t.timepoint"
    )
    return [
        WaveCount(r[0], r[1], r[2], date.fromisoformat(r[3]), bool(r[4]), r["st"], r["n"])
        for r in await db.fetchall(sql, params)
    ]


async def wave_exists(db: Database, wave_id: str, scope: Scope) -> bool:
    """Some timepoint of a programme inside ``scope`` belongs to this wave."""
    where, ids = scope.condition("g.organisation_id")
    row = await db.fetchone(
        "SELECT 1 FROM timepoints AS t JOIN participants AS p ON p.id = t.participant_id"
        f" JOIN programmes AS g ON g.id = p.programme_id WHERE t.wave_id = ? AND {where} LIMIT 1",
        (wave_id, *ids),
    )
    return row is not None


async def is_held(db: Database, wave_id: str) -> bool:
    return bool(await db.fetchone("SELECT 1 FROM wave_holds WHERE wave_id = ?", (wave_id,)))


async def held_wave_ids(db: Database) -> set[str]:
    """Every held wave (a few at most): the sweep lists their contacts as held."""
    return {r[0] for r in await db.fetchall("SELECT wave_id FROM wave_holds")}


async def hold(tx: Transaction, wave_id: str, now: datetime, by: str) -> None:
    """Hold a wave (holding it twice keeps the first hold)."""
    await tx.execute(
        "INSERT INTO wave_holds (wave_id, held_at, held_by) VALUES (?, ?, ?)"
        " ON CONFLICT DO NOTHING",
        (wave_id, iso(now), by),
    )


async def release(tx: Transaction, wave_id: str) -> None:
    """Release a wave and forget its rows' cached decisions: the sweep decides them afresh."""
    await tx.execute("DELETE FROM wave_holds WHERE wave_id = ?", (wave_id,))
    await tx.execute("UPDATE timepoints SET next_action_at = NULL WHERE wave_id = ?", (wave_id,))


async def mark_send_now(tx: Transaction, wave_id: str, now: datetime) -> None:
    """The wave's unsent rows are due now (within her windows), their cached decisions gone."""
    await tx.execute(
        "UPDATE timepoints SET send_now_at = ?, next_action_at = NULL"
        " WHERE wave_id = ? AND state = 'scheduled'",
        (iso(now), wave_id),
    )


async def scheduled_count(db: Database, wave_id: str) -> int:
    """How many of the wave's rows still wait for their first contact."""
    row = await db.fetchone(
        "SELECT COUNT(*) FROM timepoints WHERE wave_id = ? AND state = 'scheduled'", (wave_id,)
    )
    return int(row[0]) if row else 0


async def outbox_states(db: Database, dedupe_keys: Sequence[str]) -> list[tuple[str, int]]:
    """(state, count) of the outbox rows with these dedupe keys, a few queries for many keys."""
    counts: list[tuple[str, int]] = []
    for start in range(0, len(dedupe_keys), OUTBOX_KEYS_PER_QUERY):
        keys = list(dedupe_keys[start : start + OUTBOX_KEYS_PER_QUERY])
        marks = ",".join("?" * len(keys))
        counts += [
            (r[0], r[1])
            for r in await db.fetchall(
                f"SELECT state, COUNT(*) FROM outbox WHERE dedupe_key IN ({marks}) GROUP BY state",
                keys,
            )
        ]
    return counts
