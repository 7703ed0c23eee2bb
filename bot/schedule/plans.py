"""Her timepoint plan in the store: planned at enrolment, re-planned when dates change.

The pure rules are ``scheduler.timepoints``; here they meet her stored dates and
timepoint rows. What has begun (sent, answered, missed, ...) is never moved.
"""

from __future__ import annotations

from datetime import date

from bot.store import timepoints as tps
from bot.store.db import Transaction
from scheduler.timepoint_states import REPLANNABLE
from scheduler.timepoints import DateError, Offsets, plan_timepoints, replan

__all__ = ["DateError", "replan_participant"]


async def replan_participant(
    tx: Transaction, participant_id: str, offsets: Offsets
) -> dict[str, date | None]:
    """Recompute her plan from the stored dates and write what has not happened yet.

    Raises ``DateError`` when her dates contradict each other; the caller's
    transaction then rolls back, so nothing is stored.
    """
    stored = await tps.stored_plan(tx, participant_id)
    if stored is None:
        raise LookupError(f"no participant {participant_id}")
    new = plan_timepoints(stored.dates, offsets)
    previous = {r.timepoint: r.due for r in stored.rows}
    done = {r.timepoint for r in stored.rows if r.state not in REPLANNABLE}
    merged = replan(previous, new, done)
    await tps.write_plan(tx, participant_id, stored.programme_id, merged)
    return merged
