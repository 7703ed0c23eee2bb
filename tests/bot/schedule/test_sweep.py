"""The sweep with a controlled clock: windows, reminders, expiry, snooze, hold, idle."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.clock import ManualClock, parse_iso
from bot.config import Config
from bot.runtime.app import App, open_app
from bot.schedule.waves import hold_wave, release_wave
from bot.store.outbox import WINDOW_CLOSED
from bot.store.scope import Scope
from scheduler.windows import DEFAULT_QUIET, is_sendable, parse_windows
from tests.bot.support_scheduling import RecordingChannel, enrol_her, say, sweep_of, tick, timepoint

BERLIN = ZoneInfo("Europe/Berlin")
TUESDAY = date(2026, 11, 24)


def berlin(d: date, h: int, m: int = 0) -> datetime:
    return datetime.combine(d, time(h, m), tzinfo=BERLIN).astimezone(UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(berlin(TUESDAY, 7))


@pytest.fixture
def channel(clock: ManualClock) -> RecordingChannel:
    return RecordingChannel(clock)


@pytest.fixture
async def app(config: Config, clock: ManualClock, channel: RecordingChannel) -> AsyncIterator[App]:
    opened = await open_app(config, {"console": channel}, clock=clock)
    yield opened
    await opened.close()


async def run_hourly(app: App, clock: ManualClock, until: datetime, step_minutes: int = 30) -> None:
    while clock.now() < until:
        clock.advance(timedelta(minutes=step_minutes))
        await tick(app)


async def test_first_contact_waits_for_her_window(
    app: App, clock: ManualClock, channel: RecordingChannel
) -> None:
    her = await enrol_her(app, "c:1", window="tue 14:00-16:00", tz="Europe/Lisbon")
    report = await tick(app)
    assert report.actions == [] and channel.sent == []
    row = await timepoint(app, her.id, "T0")
    # 14:00 in Lisbon (UTC+0 in November) is 15:00 in Berlin: her zone, not the programme's.
    assert parse_iso(row["next_action_at"]) == datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
    clock.set(datetime(2026, 11, 24, 13, 59, tzinfo=UTC))
    await tick(app)
    assert channel.sent == []
    clock.set(datetime(2026, 11, 24, 14, 0, 30, tzinfo=UTC))
    report = await tick(app)
    assert [(a.pseudonym, a.timepoint, a.action) for a in report.actions] == [
        (her.pseudonym, "T0", "opener")
    ]
    assert report.actions[0].local == "Tue 2026-11-24 14:00 WET"
    assert channel.kinds() == ["opener"]
    assert (await timepoint(app, her.id, "T0"))["state"] == "sent"


async def test_reminders_then_expiry_marks_missed(
    app: App, clock: ManualClock, channel: RecordingChannel
) -> None:
    her = await enrol_her(app, "c:1")  # default window mon-sat 10:00-19:00
    await run_hourly(app, clock, berlin(TUESDAY + timedelta(days=9), 12))
    sent = [(t.astimezone(BERLIN), m.kind) for t, _, m in channel.sent if m.kind != "message"]
    assert sent == [
        (berlin(TUESDAY, 10), "opener"),
        (berlin(TUESDAY + timedelta(days=1), 10), "reminder"),
        (berlin(TUESDAY + timedelta(days=3), 10), "reminder"),
    ]
    windows = parse_windows("")
    for at, _, _ in channel.sent:
        assert is_sendable(at, windows, DEFAULT_QUIET, BERLIN, min_remaining=timedelta(0))
    row = await timepoint(app, her.id, "T0")
    assert row["state"] == "missed"
    assert parse_iso(row["ended_at"]) == berlin(TUESDAY + timedelta(days=7), 10)
    session = await app.service.sessions.for_timepoint(her.id, "T0")
    assert session is not None and session.state.outcome == "expired"


@pytest.mark.parametrize(
    ("choice", "reopen"),
    [
        ("later today", berlin(TUESDAY, 13, 30)),
        ("tomorrow", berlin(TUESDAY + timedelta(days=1), 10)),
        ("next week", berlin(TUESDAY + timedelta(days=7), 10)),
    ],
)
async def test_snooze_choices_reopen_in_her_window(
    app: App, clock: ManualClock, channel: RecordingChannel, choice: str, reopen: datetime
) -> None:
    her = await enrol_her(app, "c:1")
    await run_hourly(app, clock, berlin(TUESDAY, 10))
    clock.set(berlin(TUESDAY, 10, 30))
    await say(app, "c:1", "not now")
    await say(app, "c:1", choice)
    row = await timepoint(app, her.id, "T0")
    assert row["state"] == "snoozed"
    assert parse_iso(row["snoozed_until"]) == reopen
    channel.sent.clear()
    await run_hourly(app, clock, reopen + timedelta(days=1, hours=1))
    openers = [t for t, _, m in channel.sent if m.kind == "opener"]
    assert openers == [reopen]  # re-opened once, at the snooze time, not before
    row = await timepoint(app, her.id, "T0")
    assert row["state"] == "sent" and row["openers_sent"] == 2
    assert parse_iso(row["first_sent_at"]) == reopen  # the expiry clock restarts


async def test_hold_and_release(app: App, clock: ManualClock, channel: RecordingChannel) -> None:
    her = await enrol_her(app, "c:1")
    wave = (await timepoint(app, her.id, "T0"))["wave_id"]
    assert await hold_wave(app.stores, wave, "tester", Scope.installation())
    await run_hourly(app, clock, berlin(TUESDAY, 12))
    assert channel.sent == []
    assert (await timepoint(app, her.id, "T0"))["state"] == "scheduled"
    assert await release_wave(app.stores, wave, "tester", Scope.installation())
    clock.set(berlin(TUESDAY, 12, 10))
    await tick(app)
    assert channel.kinds() == ["opener"]
    actions = await app.db.fetchall(
        "SELECT action, actor FROM audit_log WHERE subject = ?", (wave,)
    )
    assert [(r["action"], r["actor"]) for r in actions] == [
        ("wave_held", "cli:tester"),
        ("wave_released", "cli:tester"),
    ]


async def test_idle_session_is_paused_and_resumes_on_her_next_message(
    app: App, clock: ManualClock, channel: RecordingChannel
) -> None:
    her = await enrol_her(app, "c:1")
    clock.set(berlin(TUESDAY, 10))
    await tick(app)
    await say(app, "c:1", "yes")
    await say(app, "c:1", "1")
    assert (await timepoint(app, her.id, "T0"))["state"] == "in_progress"
    clock.advance(timedelta(minutes=20))
    report = await tick(app)
    assert [a.action for a in report.actions] == []  # still within idle_minutes: untouched
    clock.advance(timedelta(minutes=11))
    report = await tick(app)
    assert [a.action for a in report.actions] == ["idle"]
    session = await app.service.sessions.for_timepoint(her.id, "T0")
    assert session is not None and session.state.phase == "paused"
    clock.advance(timedelta(seconds=10))  # deletions wait telegram.delete_after_seconds
    await app.dispatcher.drain_all()
    deletions = await app.db.fetchall("SELECT state FROM outbox WHERE kind = 'delete'")
    assert [r["state"] for r in deletions] == ["sent"]  # her chat was cleared
    # Two days later (within the 7-day expiry) she writes again: the survey resumes.
    clock.advance(timedelta(days=2))
    channel.sent.clear()
    await say(app, "c:1", "hello")
    assert channel.kinds() == ["opener"]
    assert "carry on" in channel.sent[0][2].text
    row = await timepoint(app, her.id, "T0")
    assert row["state"] == "in_progress"


async def test_live_session_is_not_interrupted_by_a_reminder(
    app: App, clock: ManualClock, channel: RecordingChannel
) -> None:
    her = await enrol_her(app, "c:1")
    clock.set(berlin(TUESDAY, 10))
    await tick(app)
    clock.set(berlin(TUESDAY + timedelta(days=1), 9, 55))
    await say(app, "c:1", "yes")  # she answers just before the reminder is due
    clock.set(berlin(TUESDAY + timedelta(days=1), 10, 5))
    await say(app, "c:1", "1")
    report = await tick(app)
    assert "reminder 1" not in [a.action for a in report.actions]
    assert channel.kinds().count("reminder") == 0
    assert (await timepoint(app, her.id, "T0"))["reminders_sent"] == 0


async def test_not_active_or_unlinked_participants_are_skipped(
    app: App, clock: ManualClock, channel: RecordingChannel
) -> None:
    paused = await enrol_her(app, "c:paused")
    unlinked = await enrol_her(app, "c:unlinked")
    async with app.db.transaction() as tx:
        await app.service.participants.set_status(tx, paused.id, "paused", "staff", clock.now())
        await tx.execute("UPDATE participants SET address_enc = NULL, address_idx = NULL"
                         " WHERE id = ?", (unlinked.id,))  # fmt: skip
    clock.set(berlin(TUESDAY, 11))
    report = await tick(app)
    assert report.actions == [] and channel.sent == []


async def test_dry_run_writes_nothing(app: App, clock: ManualClock) -> None:
    await enrol_her(app, "c:1")
    await enrol_her(app, "c:2")
    clock.set(berlin(TUESDAY, 11))

    async def snapshot() -> list[tuple[object, ...]]:
        rows = []
        for table in ("timepoints", "outbox", "sessions", "audit_log"):
            rows += [tuple(r) for r in await app.db.fetchall(f"SELECT * FROM {table}")]
        return rows

    before = await snapshot()
    report = await sweep_of(app).run(dry_run=True)
    assert [a.action for a in report.actions] == ["opener", "opener"]
    assert not any(a.done for a in report.actions)
    assert await snapshot() == before


async def test_a_message_whose_window_closed_is_dropped_and_sent_next_window(
    app: App, clock: ManualClock, channel: RecordingChannel
) -> None:
    her = await enrol_her(app, "c:1")
    clock.set(berlin(TUESDAY, 18, 40))
    await sweep_of(app).run()  # enqueued with 20 minutes of her window left...
    clock.set(berlin(TUESDAY, 18, 50))
    await app.dispatcher.drain_all()  # ...but the outbox was busy until 18:50
    assert channel.sent == []
    row = await app.db.fetchone("SELECT state, last_error FROM outbox WHERE kind = 'message'")
    assert row is not None and tuple(row) == ("cancelled", WINDOW_CLOSED)
    clock.set(berlin(TUESDAY, 19))
    await run_hourly(app, clock, berlin(TUESDAY + timedelta(days=1), 12))
    assert [(t, m.kind) for t, _, m in channel.sent] == [
        (berlin(TUESDAY + timedelta(days=1), 10), "opener")
    ]
    row2 = await timepoint(app, her.id, "T0")
    assert row2["openers_sent"] == 2 and row2["reminders_sent"] == 0


async def test_superseded_timepoint_is_missed_not_sent(
    app: App, clock: ManualClock, channel: RecordingChannel
) -> None:
    her = await enrol_her(app, "c:1", start=TUESDAY, end=TUESDAY + timedelta(days=90))
    async with app.db.transaction() as tx:  # she was paused for months: T0, T1 and T2 all due
        await tx.execute(
            "UPDATE timepoints SET due_on = ? WHERE participant_id = ? AND timepoint IN"
            " ('T0', 'T1', 'T2')",
            ((TUESDAY - timedelta(days=1)).isoformat(), her.id),
        )
    clock.set(berlin(TUESDAY, 11))
    await tick(app)
    states = {tp: (await timepoint(app, her.id, tp))["state"] for tp in ("T0", "T1", "T2")}
    assert states == {"T0": "missed", "T1": "missed", "T2": "sent"}
    assert channel.kinds() == ["opener"]


async def test_dropout_while_t2_is_open_closes_it_and_waits_the_gap(
    app: App, clock: ManualClock, channel: RecordingChannel
) -> None:
    start = TUESDAY - timedelta(days=40)
    her = await enrol_her(app, "c:1", start=start, end=start + timedelta(days=80),
                          today=start - timedelta(days=20))  # fmt: skip
    async with app.db.transaction() as tx:  # T0 and T1 are done; T2 is due today
        await tx.execute(
            "UPDATE timepoints SET state = 'completed' WHERE timepoint IN ('T0', 'T1')"
        )
        await tx.execute("UPDATE timepoints SET due_on = ? WHERE timepoint = 'T2'",
                         (TUESDAY.isoformat(),))  # fmt: skip
    clock.set(berlin(TUESDAY, 10))
    await tick(app)
    assert channel.kinds() == ["opener"]
    async with app.db.transaction() as tx:  # staff record a drop-out an hour later
        await tx.execute("UPDATE participants SET dropout_on = ?", (TUESDAY.isoformat(),))
        from bot.schedule.plans import replan_participant
        from scheduler.timepoints import Offsets

        await replan_participant(tx, her.id, Offsets())
    assert (await timepoint(app, her.id, "T3"))["due_on"] == TUESDAY.isoformat()
    await run_hourly(app, clock, berlin(TUESDAY + timedelta(days=1), 12))
    kinds = [m.kind for _, _, m in channel.sent]
    assert kinds == ["opener", "opener"]  # no T2 reminder once T3 is due
    # Not at once: the next window after the 20-hour gap; T2's chat is cleared first.
    t3_sent = channel.sent[1][0]
    wednesday_10 = berlin(TUESDAY + timedelta(days=1), 10)
    assert wednesday_10 <= t3_sent <= wednesday_10 + timedelta(minutes=30)
    t3 = await timepoint(app, her.id, "T3")
    assert t3["state"] == "sent" and parse_iso(t3["first_sent_at"]) == wednesday_10
    assert (await timepoint(app, her.id, "T2"))["state"] == "missed"


async def test_a_held_wave_outside_her_window_is_listed_as_held_in_a_dry_run(
    app: App, clock: ManualClock, channel: RecordingChannel
) -> None:
    her = await enrol_her(app, "c:1", window="tue 15:00-16:00")
    wave = (await timepoint(app, her.id, "T0"))["wave_id"]
    assert await hold_wave(app.stores, wave, "tester", Scope.installation())
    clock.set(berlin(TUESDAY, 12))
    report = await sweep_of(app).run(dry_run=True)
    held = [(a.pseudonym, a.action, a.at, a.done) for a in report.actions]
    assert held == [(her.pseudonym, "held", berlin(TUESDAY, 15), False)]
    assert channel.sent == []
