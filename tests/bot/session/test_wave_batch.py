"""A chunk of a wave's contacts, written together: once each, none lost, none unsafe."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import bot.session.wave_batch
from bot.clock import ManualClock
from bot.config import Config
from bot.runtime.app import App, open_app
from bot.schedule.contact_request import ContactRequest
from conversations.effects import Escalate
from conversations.engine import step
from tests.bot.support_scheduling import RecordingChannel, enrol_her, timepoint

BERLIN = ZoneInfo("Europe/Berlin")
ELEVEN = datetime.combine(date(2026, 11, 24), time(11), tzinfo=BERLIN).astimezone(UTC)


@pytest.fixture
async def app(config: Config) -> AsyncIterator[App]:
    clock = ManualClock(ELEVEN)
    opened = await open_app(config, {"console": RecordingChannel(clock)}, clock=clock)
    yield opened
    await opened.close()


async def partners(app: App, n: int) -> list[str]:
    return [(await enrol_her(app, f"c:{i}")).id for i in range(n)]


def opener(pid: str, n: int = 1) -> ContactRequest:
    until = ELEVEN + timedelta(hours=8)
    return ContactRequest(pid, "T0", 0, True, f"opener:{pid}:T0:{n}", until)


async def outbox_rows(app: App) -> dict[str, int]:
    """Messages queued per participant."""
    rows = await app.db.fetchall(
        "SELECT participant_id, COUNT(*) FROM outbox WHERE kind = 'message' GROUP BY participant_id"
    )
    return {r[0]: r[1] for r in rows}


async def openers_sent(app: App, pid: str) -> int:
    return int((await timepoint(app, pid, "T0"))["openers_sent"])


async def test_a_chunk_contacts_each_once_and_a_second_try_writes_nothing(app: App) -> None:
    ids = await partners(app, 5)
    reports = await app.service.begin_contacts([opener(p) for p in ids])
    assert all(r is not None and r.state.phase == "gate" for r in reports)
    assert await outbox_rows(app) == dict.fromkeys(ids, 1)
    for pid in ids:
        row = await timepoint(app, pid, "T0")
        assert (row["state"], row["openers_sent"], row["first_sent_at"] is not None) == (
            "sent",
            1,
            True,
        )
    again = await app.service.begin_contacts([opener(p) for p in ids])
    assert again == [None] * 5
    assert await outbox_rows(app) == dict.fromkeys(ids, 1)
    assert [await openers_sent(app, p) for p in ids] == [1] * 5


async def test_the_same_contact_twice_in_a_chunk_goes_out_once_and_the_rest_still_go(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    a, b, c = await partners(app, 3)
    with caplog.at_level(logging.WARNING):
        reports = await app.service.begin_contacts([opener(a), opener(b), opener(a), opener(c)])
    assert "one by one" in caplog.text
    assert [r is not None for r in reports] == [True, True, False, True]
    assert await outbox_rows(app) == {a: 1, b: 1, c: 1}
    assert [await openers_sent(app, p) for p in (a, b, c)] == [1, 1, 1]


async def test_a_contact_made_before_rolls_the_chunk_back_and_nobody_is_contacted_twice(
    app: App, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    a, b, c = await partners(app, 3)
    assert await app.service.begin_contact(b, "T0", wave=True, dedupe_key=opener(b).dedupe_key)

    async def blind(keys: list[str]) -> set[str]:
        return set()  # the up-front check misses it: only the insert can tell

    monkeypatch.setattr(app.service.outbox, "used_keys", blind)
    with caplog.at_level(logging.WARNING):
        reports = await app.service.begin_contacts([opener(a), opener(b), opener(c)])
    assert "rolled back" in caplog.text
    assert [r is not None for r in reports] == [True, False, True]
    assert await outbox_rows(app) == {a: 1, b: 1, c: 1}
    assert [await openers_sent(app, p) for p in (a, b, c)] == [1, 1, 1]


async def test_no_contact_without_consent_or_while_she_is_not_active(app: App) -> None:
    ok, paused, opted_out, withdrawn, no_consent = await partners(app, 5)
    now = app.service.clock.now()
    async with app.db.transaction() as tx:
        for pid, status in ((paused, "paused"), (opted_out, "opted_out"), (withdrawn, "withdrawn")):
            await app.service.participants.set_status(tx, pid, status, "test", now)
        await tx.execute("DELETE FROM consents WHERE participant_id = ?", (no_consent,))
    everyone = [ok, paused, opted_out, withdrawn, no_consent]
    reports = await app.service.begin_contacts([opener(p) for p in everyone])
    assert [r is not None for r in reports] == [True, False, False, False, False]
    assert await outbox_rows(app) == {ok: 1}
    assert [await openers_sent(app, p) for p in everyone] == [1, 0, 0, 0, 0]
    sessions = await app.db.fetchall("SELECT participant_id FROM sessions")
    assert [r[0] for r in sessions] == [ok]


async def test_a_batched_opener_is_the_single_path_opener(app: App) -> None:
    single, batched = await partners(app, 2)
    request = opener(single)
    await app.service.begin_contact(
        single, "T0", wave=True, dedupe_key=request.dedupe_key, not_after=request.not_after
    )
    await app.service.begin_contacts([opener(batched)])
    rows = {r.participant_id: r for r in await app.service.outbox.due("console", ELEVEN)}

    def comparable(pid: str) -> tuple[Any, ...]:
        row = rows[pid]
        payload = {**row.payload, "address": None}
        return (row.lane.replace(pid, "?"), row.kind, row.priority, row.not_after, payload)

    assert comparable(single) == comparable(batched)
    assert rows[batched].payload["address"] == "c:1"
    one, two = [await timepoint(app, p, "T0") for p in (single, batched)]
    keep = ("state", "first_sent_at", "last_sent_at", "openers_sent", "reminders_sent")
    assert [one[k] for k in keep] == [two[k] for k in keep]
    states = [await app.service.sessions.for_timepoint(p, "T0") for p in (single, batched)]
    assert states[0] is not None and states[1] is not None
    assert states[0].state == states[1].state


async def test_a_batched_reminder_counts_the_reminder_not_a_new_opener(app: App) -> None:
    (pid,) = await partners(app, 1)
    await app.service.begin_contacts([opener(pid)])
    first = (await timepoint(app, pid, "T0"))["first_sent_at"]
    app.service.clock.advance(timedelta(hours=1))  # type: ignore[attr-defined]
    reminder = ContactRequest(pid, "T0", 1, True, f"reminder:{pid}:T0:1:1", None)
    (report,) = await app.service.begin_contacts([reminder])
    assert report is not None and report.state.phase == "gate"
    row = await timepoint(app, pid, "T0")
    assert (row["reminders_sent"], row["openers_sent"], row["first_sent_at"]) == (1, 1, first)
    assert row["last_sent_at"] > first
    assert await outbox_rows(app) == {pid: 2}


async def test_an_unusual_step_makes_the_chunk_one_by_one(
    app: App, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    ids = await partners(app, 3)

    def odd(*args: Any, **kw: Any) -> Any:
        state, effects = step(*args, **kw)
        return state, [*effects, Escalate("ROUTINE", ("test",))]

    monkeypatch.setattr(bot.session.wave_batch, "step", odd)
    with caplog.at_level(logging.WARNING):
        reports = await app.service.begin_contacts([opener(p) for p in ids])
    assert "Escalate" in caplog.text
    assert all(r is not None for r in reports)
    assert await outbox_rows(app) == dict.fromkeys(ids, 1)
    assert [await openers_sent(app, p) for p in ids] == [1, 1, 1]
