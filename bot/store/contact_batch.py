"""Write a chunk of contacts (openers, reminders) with one statement per table.

Each ``await`` on aiosqlite is a hand-off to its thread (~25-30 µs); a wave written
row by row spends most of its time there. Here a chunk's session saves, outbox rows
and timepoint marks go out as three or four ``executemany`` calls inside the
caller's transaction, so the chunk commits or rolls back whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.store import timepoints as tps
from bot.store.db import Transaction
from bot.store.outbox import Outbox
from bot.store.sessions import Sessions


class DuplicateContact(Exception):
    """An opener's or reminder's dedupe key is in the outbox already: this contact was made
    before. The chunk's transaction must roll back (nobody is contacted twice for one
    timepoint); the caller then makes the chunk's contacts one by one."""


@dataclass
class ContactRows:
    """The rows of a chunk of contacts, built before anything is written."""

    sessions: list[tuple[object, ...]] = field(default_factory=list)
    """Parameters of ``sessions.SAVE_SQL`` (``Sessions.row``)."""
    outbox: list[tuple[object, ...]] = field(default_factory=list)
    """Parameters of ``outbox.ENQUEUE_SQL`` (``Outbox.row``), each with a dedupe key."""
    marks: list[tuple[str, str, int]] = field(default_factory=list)
    """(participant, timepoint, reminder) whose attempt bookkeeping is updated."""


async def write_contacts(
    tx: Transaction,
    rows: ContactRows,
    now: datetime,
    sessions: Sessions,
    outbox: Outbox,
) -> None:
    """Write the chunk inside ``tx``; raises ``DuplicateContact`` (the caller's transaction
    then rolls back) if any outbox row's dedupe key was used already."""
    await sessions.save_many(tx, rows.sessions)
    added = await outbox.enqueue_many(tx, rows.outbox)
    if added != len(rows.outbox):
        raise DuplicateContact(f"{len(rows.outbox) - added} of {len(rows.outbox)} keys used")
    await tps.mark_contacted_many(tx, rows.marks, now)
