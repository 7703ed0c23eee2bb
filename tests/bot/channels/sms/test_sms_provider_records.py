"""Provider-log deletion in-process, on a manual clock: 20009 back-off, 14-day limit, sweep."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest

from bot.channels.sms import SmsChannel
from bot.clock import ManualClock
from bot.config import Config
from bot.enrolment.rules import enrol
from bot.outbox.provider_records import PROVIDER_DELETE, RECORDS_CHANNEL, ProviderRecords
from bot.runtime.app import App, open_app
from bot.store.consent import Consent
from tests.bot.conftest import add_programme
from tests.bot.support_sealed_rows import escalations
from tests.fakes.twilio_api import FakeTwilio

from .support_sms import PHONE
from .test_sms_channel import settings

pytestmark = pytest.mark.filterwarnings(
    "ignore:BasicAuth is deprecated:DeprecationWarning",
    "ignore:The 'auth' parameter is deprecated:DeprecationWarning",
)


@pytest.fixture
async def app(config: Config, clock: ManualClock, fake: FakeTwilio) -> AsyncIterator[App]:
    fake.auto_deliver = False  # statuses move only when the test says so
    cfg = dataclasses.replace(config, sms=settings(fake))
    channel = SmsChannel(cfg.sms)
    opened = await open_app(cfg, {"sms": channel, RECORDS_CHANNEL: channel}, clock=clock)
    yield opened
    await channel.close()
    await opened.close()


def records_of(app: App) -> ProviderRecords:
    channel = app.channels["sms"]
    records = ProviderRecords(
        db=app.db,
        ring=app.ring,
        outbox=app.service.outbox,
        transcript=app.service.transcript,
        clock=app.service.clock,
        channel=channel,
    )
    app.dispatcher.kind_handlers[PROVIDER_DELETE] = records.handle
    return records


async def opener_sent(app: App) -> str:
    """Enrol her on SMS, open T0 and send the opener; returns its Message SID."""
    programme_id = await add_programme(app)
    participant = await enrol(
        app.stores, app.config, app.service.survey, programme_id=programme_id, channel="sms", language="en",
        timezone="Europe/London", today=date(2026, 11, 24), now=app.service.clock.now(),
        address=PHONE, safe_word="pineapple",
        consent=Consent("v1", date(2026, 11, 20), "Test Worker"),
    )  # fmt: skip
    await app.service.begin_contact(participant.id, "T0")
    await app.dispatcher.drain("sms")
    refs = await app.service.transcript.undeleted_on("sms")
    assert len(refs) == 1
    return refs[0].ref


async def deletion_rows(app: App) -> list[tuple[str, int]]:
    rows = await app.db.fetchall(
        "SELECT state, attempts FROM outbox WHERE kind = ? ORDER BY id", (PROVIDER_DELETE,)
    )
    return [(r[0], r[1]) for r in rows]


async def test_not_final_backs_off_then_final_status_brings_it_forward(
    app: App, fake: FakeTwilio, clock: ManualClock
) -> None:
    records = records_of(app)
    sid = await opener_sent(app)
    assert await records.sweep() == 1
    await app.dispatcher.drain(RECORDS_CHANNEL)
    assert await deletion_rows(app) == [("pending", 1)]  # 20009: still "queued"
    assert fake.existing_sids() == [sid]
    await records.message_final(sid, "sent")  # not final: nothing changes
    assert await app.dispatcher.drain(RECORDS_CHANNEL) == 0
    fake.advance(sid, "delivered")
    await records.message_final(sid, "delivered")  # the status callback
    assert await app.dispatcher.drain(RECORDS_CHANNEL) == 1
    assert await deletion_rows(app) == [("sent", 2)]
    assert fake.existing_sids() == [] and sid in fake.deleted
    assert await app.service.transcript.undeleted_on("sms") == []
    assert await records.sweep() == 0


async def test_gives_up_after_14_days_and_the_sweep_does_not_requeue(
    app: App, fake: FakeTwilio, clock: ManualClock
) -> None:
    records = records_of(app)
    sid = await opener_sent(app)
    await records.sweep()
    for _ in range(40):
        await app.dispatcher.drain(RECORDS_CHANNEL)
        clock.advance(timedelta(hours=12))
    states = await deletion_rows(app)
    assert states[0][0] == "failed" and 25 <= states[0][1] <= 31
    row = await app.db.fetchone("SELECT last_error FROM outbox WHERE kind = ?", (PROVIDER_DELETE,))
    assert row is not None and "14 days" in row[0]
    assert await records.sweep() == 0
    assert fake.existing_sids() == [sid]  # left in place; the transcript says so
    assert len(await app.service.transcript.undeleted_on("sms")) == 1


async def test_callback_before_the_reference_is_committed_waits(
    app: App, fake: FakeTwilio, clock: ManualClock
) -> None:
    records = records_of(app)
    sid = await opener_sent(app)
    fake.advance(sid, "delivered")
    async with app.db.transaction() as tx:  # as if the callback beat the dispatcher's commit
        await tx.execute("DELETE FROM transcript")
    await records.message_final(sid, "delivered")
    assert await app.dispatcher.drain(RECORDS_CHANNEL) == 0
    clock.advance(timedelta(seconds=6))
    assert await app.dispatcher.drain(RECORDS_CHANNEL) == 1
    assert sid in fake.deleted


async def test_switched_off_deletes_nothing(app: App, fake: FakeTwilio) -> None:
    records = records_of(app)
    records.enabled = False
    sid = await opener_sent(app)
    fake.advance(sid, "delivered")
    await records.message_final(sid, "delivered")
    assert await records.sweep() == 0
    assert await deletion_rows(app) == [] and fake.existing_sids() == [sid]


async def test_invalid_number_on_send_marks_her_unreachable_and_tells_staff(
    app: App, fake: FakeTwilio
) -> None:
    fake.fail_next("create", 400, 21211)
    programme_id = await add_programme(app)
    participant = await enrol(
        app.stores, app.config, app.service.survey, programme_id=programme_id, channel="sms", language="en",
        timezone="Europe/London", today=date(2026, 11, 24), now=app.service.clock.now(),
        address=PHONE, safe_word="pineapple",
        consent=Consent("v1", date(2026, 11, 20), "Test Worker"),
    )  # fmt: skip
    await app.service.begin_contact(participant.id, "T0")
    await app.dispatcher.drain("sms")
    row = await app.db.fetchone("SELECT status, status_reason FROM participants")
    assert row is not None and (row[0], row[1]) == ("unreachable", "invalid_number")
    assert await escalations(app) == [("ROUTINE", ("unreachable", "invalid_number"))]
    session = await app.service.sessions.current(participant.id)
    assert session is not None and session.state.outcome == "unreachable"
    await app.service.mark_unreachable(participant.id, "invalid_number")  # a second row: no-op
    assert len(await app.db.fetchall("SELECT 1 FROM escalations")) == 1
