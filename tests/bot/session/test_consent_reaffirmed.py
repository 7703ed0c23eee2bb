"""Consent reaffirmed per timepoint, end to end: the answer stored with her consent version,
"not this time" a declined timepoint that is never reminded, "stop for good" a withdrawal whose
answer outlives her identity in the anonymous research rows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.clock import ManualClock, parse_iso
from bot.config import Config
from bot.datarights.core import withdraw_in_tx
from bot.runtime.app import App, open_app
from bot.store.outbox import lane_of
from bot.store.research import all_records
from tests.bot.support_scheduling import RecordingChannel, enrol_her, say, tick, timepoint

BERLIN = ZoneInfo("Europe/Berlin")
TUESDAY = date(2026, 11, 24)
CONSENT_ASK = "Is it still OK to ask you a few questions?"


def berlin(d: date, h: int, m: int = 0) -> datetime:
    return datetime.combine(d, time(h, m), tzinfo=BERLIN).astimezone(UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(berlin(TUESDAY, 10, 5))


@pytest.fixture
def channel(clock: ManualClock) -> RecordingChannel:
    return RecordingChannel(clock)


@pytest.fixture
async def app(config: Config, clock: ManualClock, channel: RecordingChannel) -> AsyncIterator[App]:
    opened = await open_app(config, {"console": channel}, clock=clock)
    yield opened
    await opened.close()


async def at_consent_question(app: App, channel: RecordingChannel) -> str:
    her = await enrol_her(app, "c:1")
    await tick(app)
    assert channel.kinds() == ["opener"]
    await say(app, "c:1", "yes")
    assert CONSENT_ASK in channel.sent[-1][2].text
    assert channel.sent[-1][2].text.endswith("1 Yes\n2 Not this time\n3 Stop for good")
    return her.id


async def test_yes_is_stored_with_her_consent_version_and_the_questions_begin(
    app: App, clock: ManualClock, channel: RecordingChannel
) -> None:
    pid = await at_consent_question(app, channel)
    row = await timepoint(app, pid, "T0")
    assert row["consent_answer"] is None  # asked, not yet answered
    await say(app, "c:1", "1")
    row = await timepoint(app, pid, "T0")
    assert (row["consent_answer"], row["consent_version"]) == ("yes", "v1")
    assert parse_iso(row["consent_at"]) == clock.now()
    assert row["state"] == "in_progress"
    assert "Do you feel safe right now?" in channel.sent[-1][2].text
    (record,) = [r for r in await all_records(app.db, app.ring, 1) if r.timepoint == "T0"]
    assert (record.consent_answer, record.consent_version) == ("yes", "v1")


async def test_not_this_time_declines_the_timepoint_and_no_reminder_follows(
    app: App, clock: ManualClock, channel: RecordingChannel
) -> None:
    pid = await at_consent_question(app, channel)
    await say(app, "c:1", "2")
    assert channel.sent[-1][2].text == "OK, no questions this time. Thank you, take care."
    row = await timepoint(app, pid, "T0")
    assert (row["state"], row["consent_answer"]) == ("declined", "not_this_time")
    assert row["ended_at"] is not None
    while clock.now() < berlin(TUESDAY + timedelta(days=9), 12):
        clock.advance(timedelta(hours=2))
        await tick(app)
    assert [m.kind for _, _, m in channel.sent].count("reminder") == 0
    assert channel.kinds() == ["opener", "consent", "closing"]
    assert (await timepoint(app, pid, "T0"))["state"] == "declined"


async def test_stop_for_good_withdraws_and_the_answer_stays_in_the_research_rows(
    app: App, channel: RecordingChannel
) -> None:
    pid = await at_consent_question(app, channel)
    await say(app, "c:1", "Stop for good")
    her = await app.service.participants.get(pid)
    assert her is not None and her.status == "paused"  # no code word: the WSS confirms with her
    row = await timepoint(app, pid, "T0")
    assert (row["consent_answer"], row["consent_version"]) == ("stop", "v1")
    programme = await app.service.programmes.get(her.programme_id)
    async with app.db.transaction() as tx:  # staff complete it (``followup withdraw``)
        await withdraw_in_tx(tx, app.ring, her, programme, app.service.clock.now(),
                             actor="Ana", lane=lane_of(her.id))  # fmt: skip
    records = [r for r in await all_records(app.db, app.ring, her.programme_id) if r.invited]
    assert [(r.timepoint, r.consent_answer, r.consent_version) for r in records] == [
        ("T0", "stop", "v1")
    ]
    assert records[0].research_id != her.pseudonym
