"""Her timepoint plan in the store: planned at enrolment, re-planned when dates change.

The pure rules are ``scheduler.timepoints``; here they meet her stored dates and
timepoint rows. What has begun (sent, answered, missed, ...) is never moved.
"""

from __future__ import annotations

from datetime import date

import aiosqlite

from bot.store import timepoints as tps
from scheduler.timepoints import DateError, Offsets, ProgrammeDates, plan_timepoints, replan

__all__ = ["DateError", "dates_of", "replan_participant"]


def _d(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def dates_of(row: aiosqlite.Row) -> ProgrammeDates:
    """Her programme dates from a ``participants`` row."""
    return ProgrammeDates(
        enrolled=date.fromisoformat(row["enrolled_on"]),
        start=_d(row["start_on"]),
        end=_d(row["end_on"]),
        dropout=_d(row["dropout_on"]),
        completed=_d(row["completed_on"]),
    )


async def replan_participant(
    tx: aiosqlite.Connection, participant_id: str, offsets: Offsets
) -> dict[str, date | None]:
    """Recompute her plan from the stored dates and write what has not happened yet.

    Raises ``DateError`` when her dates contradict each other; the caller's
    transaction then rolls back, so nothing is stored.
    """
    row = await (
        await tx.execute("SELECT * FROM participants WHERE id = ?", (participant_id,))
    ).fetchone()
    if row is None:
        raise LookupError(f"no participant {participant_id}")
    new = plan_timepoints(dates_of(row), offsets)
    rows = await (
        await tx.execute(
            "SELECT timepoint, due_on, state FROM timepoints WHERE participant_id = ?",
            (participant_id,),
        )
    ).fetchall()
    previous = {r["timepoint"]: _d(r["due_on"]) for r in rows}
    done = {r["timepoint"] for r in rows if r["state"] not in tps.REPLANNABLE}
    merged = replan(previous, new, done)
    await tps.write_plan(tx, participant_id, row["programme_id"], merged)
    return merged
