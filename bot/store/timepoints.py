"""Timepoint rows: what is due for whom, and how far each contact got.

Every write of a row's state goes through here, inside the caller's transaction; what has
begun (sent, answered, missed) is never moved by a new plan (see ``REPLANNABLE``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from bot.clock import iso
from bot.store.db import Transaction
from scheduler.timepoint_states import REPLANNABLE
from scheduler.timepoints import ProgrammeDates


async def ensure(tx: Transaction, participant_id: str, timepoint: str, due_on: date | None) -> None:
    await tx.execute(
        "INSERT INTO timepoints (participant_id, timepoint, due_on) VALUES (?, ?, ?)"
        " ON CONFLICT DO NOTHING",
        (participant_id, timepoint, due_on.isoformat() if due_on else None),
    )


async def ensure_many(tx: Transaction, pairs: list[tuple[str, str]]) -> None:
    """``ensure`` for many (participant, timepoint) without a due date: one statement."""
    await tx.executemany(
        "INSERT INTO timepoints (participant_id, timepoint) VALUES (?, ?) ON CONFLICT DO NOTHING",
        pairs,
    )


async def update(tx: Transaction, participant_id: str, timepoint: str, **fields: Any) -> None:
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
    tx: Transaction, participant_id: str, timepoint: str, reminder: int, now: datetime
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
    tx: Transaction, contacts: list[tuple[str, str, int]], now: datetime
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
async def write_plan(
    tx: Transaction,
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


@dataclass(frozen=True)
class PlanRow:
    timepoint: str
    due: date | None
    state: str


@dataclass(frozen=True)
class StoredPlan:
    """What a re-plan starts from: her programme, her stored dates and her rows as they are."""

    programme_id: int
    dates: ProgrammeDates
    rows: list[PlanRow]


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


async def stored_plan(tx: Transaction, participant_id: str) -> StoredPlan | None:
    """Her dates and timepoint rows, read in the caller's transaction (None: no such partner)."""
    her = await (
        await tx.execute(
            "SELECT programme_id, enrolled_on, start_on, end_on, dropout_on, completed_on"
            " FROM participants WHERE id = ?",
            (participant_id,),
        )
    ).fetchone()
    if her is None:
        return None
    dates = ProgrammeDates(
        enrolled=date.fromisoformat(her["enrolled_on"]),
        start=_day(her["start_on"]),
        end=_day(her["end_on"]),
        dropout=_day(her["dropout_on"]),
        completed=_day(her["completed_on"]),
    )
    rows = await (
        await tx.execute(
            "SELECT timepoint, due_on, state FROM timepoints WHERE participant_id = ?",
            (participant_id,),
        )
    ).fetchall()
    planned = [PlanRow(r["timepoint"], _day(r["due_on"]), r["state"]) for r in rows]
    return StoredPlan(her["programme_id"], dates, planned)
