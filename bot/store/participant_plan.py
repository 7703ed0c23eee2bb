"""Her timepoints as staff see them, and forgetting the sweep's cached decisions about her.

Staff read dates and states only, never answers. Whenever her plan, window, zone or
status changes, the sweep's cached ``next_action_at`` is cleared so it decides afresh.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.store.db import Transaction


@dataclass(frozen=True)
class PlannedTimepoint:
    """One row of ``followup participant show`` (times as stored: ISO UTC text)."""

    timepoint: str
    due_on: str | None
    state: str
    wave_id: str | None
    wave_held: bool
    first_sent_at: str | None
    reminders_sent: int
    next_action_at: str | None
    snoozed_until: str | None


async def planned_timepoints(tx: Transaction, participant_id: str) -> list[PlannedTimepoint]:
    """Her timepoints in order, each with whether its wave is held by staff."""
    rows = await tx.execute_fetchall(
        "SELECT t.*, EXISTS (SELECT 1 FROM wave_holds AS h WHERE h.wave_id = t.wave_id) AS held"
        " FROM timepoints AS t WHERE t.participant_id = ? ORDER BY t.timepoint",
        (participant_id,),
    )
    return [
        PlannedTimepoint(
            timepoint=r["timepoint"],
            due_on=r["due_on"],
            state=r["state"],
            wave_id=r["wave_id"],
            wave_held=bool(r["held"]),
            first_sent_at=r["first_sent_at"],
            reminders_sent=int(r["reminders_sent"]),
            next_action_at=r["next_action_at"],
            snoozed_until=r["snoozed_until"],
        )
        for r in rows
    ]


async def forget_decisions(tx: Transaction, participant_id: str) -> None:
    """Her dates, window, zone or status changed: the sweep looks at her again."""
    await tx.execute(
        "UPDATE timepoints SET next_action_at = NULL WHERE participant_id = ?", (participant_id,)
    )


async def forget_programme_decisions(tx: Transaction, programme_id: int) -> None:
    """Her programme's rules changed: the sweep looks at every partner of it again."""
    await tx.execute(
        "UPDATE timepoints SET next_action_at = NULL WHERE participant_id IN"
        " (SELECT id FROM participants WHERE programme_id = ?)",
        (programme_id,),
    )
