"""Writing a chunk of contacts: all rows together, or none when a contact was made before."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bot.clock import ManualClock
from bot.config import Config
from bot.runtime.app import App, open_app
from bot.store.contact_batch import ContactRows, DuplicateContact, write_contacts
from bot.store.outbox import PRIORITY_WAVE
from conversations.state import SessionState

from ..support_scheduling import RecordingChannel, enrol_her, timepoint

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


@pytest.fixture
async def app(config: Config) -> AsyncIterator[App]:
    clock = ManualClock(NOW)
    opened = await open_app(config, {"console": RecordingChannel(clock)}, clock=clock)
    yield opened
    await opened.close()


def rows_for(app: App, contacts: list[tuple[str, int]]) -> ContactRows:
    """Rows of (participant, reminder) contacts for T0, keyed like the sweep's."""
    rows = ContactRows()
    for pid, reminder in contacts:
        sid, session = app.service.sessions.row(pid, SessionState("T0", phase="gate"), NOW, None)
        rows.sessions.append(session)
        rows.outbox.append(
            app.service.outbox.row(
                lane=f"p:{pid}", channel="console", kind="message", priority=PRIORITY_WAVE,
                payload={"address": pid}, now=NOW, participant_id=pid, session_id=sid,
                dedupe_key=f"k:{pid}:{reminder}",
            )
        )  # fmt: skip
        rows.marks.append((pid, "T0", reminder))
    return rows


async def counts(app: App) -> tuple[int, int]:
    sessions = await app.db.fetchone("SELECT COUNT(*) FROM sessions")
    outbox = await app.db.fetchone("SELECT COUNT(*) FROM outbox WHERE kind = 'message'")
    assert sessions is not None and outbox is not None
    return sessions[0], outbox[0]


async def test_a_chunk_writes_every_table(app: App) -> None:
    a, b = [(await enrol_her(app, f"c:{i}")).id for i in range(2)]
    async with app.db.transaction() as tx:
        await write_contacts(tx, rows_for(app, [(a, 0), (b, 0)]), NOW, app.service.sessions,
                             app.service.outbox)  # fmt: skip
    assert await counts(app) == (2, 2)
    for pid in (a, b):
        row = await timepoint(app, pid, "T0")
        assert (row["state"], row["openers_sent"], row["reminders_sent"]) == ("sent", 1, 0)
        session = await app.service.sessions.for_timepoint(pid, "T0")
        assert session is not None and session.state.phase == "gate"


async def test_a_used_key_rolls_the_whole_chunk_back(app: App) -> None:
    a, b, c = [(await enrol_her(app, f"c:{i}")).id for i in range(3)]
    async with app.db.transaction() as tx:
        done = rows_for(app, [(b, 0)])
        await app.service.outbox.enqueue_many(tx, done.outbox)
    with pytest.raises(DuplicateContact, match="1 of 3"):
        async with app.db.transaction() as tx:
            rows = rows_for(app, [(a, 0), (b, 0), (c, 0)])
            await write_contacts(tx, rows, NOW, app.service.sessions, app.service.outbox)
    assert await counts(app) == (0, 1)  # only the earlier row of b
    assert [(await timepoint(app, p, "T0"))["openers_sent"] for p in (a, b, c)] == [0, 0, 0]


async def test_reminders_and_openers_are_marked_apart(app: App) -> None:
    a, b = [(await enrol_her(app, f"c:{i}")).id for i in range(2)]
    async with app.db.transaction() as tx:
        await write_contacts(tx, rows_for(app, [(a, 0)]), NOW, app.service.sessions,
                             app.service.outbox)  # fmt: skip
    async with app.db.transaction() as tx:
        rows = rows_for(app, [(b, 0)])
        rows.marks.append((a, "T0", 2))
        await write_contacts(tx, rows, NOW, app.service.sessions, app.service.outbox)
    one, two = [await timepoint(app, p, "T0") for p in (a, b)]
    assert (one["openers_sent"], one["reminders_sent"]) == (1, 2)
    assert (two["openers_sent"], two["reminders_sent"]) == (1, 0)
