"""First alerts: written with her answer, on every on-call route, saying only what they may."""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime, timedelta

import aiosqlite
import pytest

from bot.channels.base import Inbound
from bot.channels.console import ConsoleChannel
from bot.clock import ManualClock
from bot.config import Config, SurveyConfig
from bot.runtime.app import App, open_app
from bot.store.escalations import RaisedEscalation
from bot.store.scope import Scope
from conversations import messages as m
from tests.bot.support_sealed_rows import escalations

from .conftest import (
    ANA_PHONE,
    ANA_TG,
    RecordingChannel,
    last_code,
    monitor,
    notifications,
    on_call_team,
    raise_high,
    raise_urgent,
    say,
    start_t0,
)


async def test_urgent_alerts_every_on_call_route_at_once(
    eapp: App, telegram: RecordingChannel, sms: RecordingChannel
) -> None:
    await on_call_team(eapp)
    code = await raise_urgent(eapp)
    assert await notifications(eapp, code) == [
        ("ana", "sms", 1, "sent"),
        ("ana", "telegram", 1, "sent"),
    ]
    ((address, alert),) = telegram.sent
    assert address == ANA_TG
    assert alert.kind == "staff_alert"
    assert [(b.label, b.data) for b in alert.buttons] == [
        ("Acknowledge", f"esc:ack:{code}"),
        ("Resolve", f"esc:resolve:{code}"),
    ]
    text = alert.text
    assert f"URGENT alert {code}" in text
    pseudonym = (await eapp.service.participants.by_address("console", "console:alice")).pseudonym  # type: ignore[union-attr]
    assert f"Partner {pseudonym}, programme demo" in text
    assert "not safe now and wants help today (not_safe_wants_help)" in text
    assert "Safe to contact: mon-sat 10:00-19:00 (Europe/London), by console" in text
    assert "Raised: Nov 24, 2026, 10:00:00\u202fAM (Europe/London)" in text
    ((sms_address, sms_alert),) = sms.sent
    assert sms_address == ANA_PHONE and not sms_alert.buttons
    assert f"Reply ACK {code} or DONE {code}" in sms_alert.text


async def test_alert_rows_are_written_in_the_answers_transaction(
    config: Config, clock: ManualClock, console: ConsoleChannel
) -> None:
    """A hook failing after ours rolls back answer, escalation, alert rows and outbox together."""

    async def broken(tx: aiosqlite.Connection, raised: RaisedEscalation, now: datetime) -> None:
        raise RuntimeError("disk full")

    app = await open_app(config, {"console": console}, clock=clock, escalation_hooks=(broken,))
    try:
        await on_call_team(app)
        await start_t0(app)
        await say(app, "2")  # not safe now: no risk yet
        with pytest.raises(RuntimeError):
            await app.handle_inbound(Inbound("console", "console:alice", "1"))
        for table in ("escalations", "escalation_notifications"):
            row = await app.db.fetchone(f"SELECT COUNT(*) FROM {table}")
            assert row is not None and row[0] == 0, table
        row = await app.db.fetchone("SELECT COUNT(*) FROM outbox WHERE lane LIKE 'staff:%'")
        assert row is not None and row[0] == 0
        pid = (await app.service.participants.by_address("console", "console:alice")).id  # type: ignore[union-attr]
        assert "help_now" not in await app.service.answers.for_timepoint(pid, "T0")
    finally:
        await app.close()


async def test_first_alert_is_in_the_database_before_any_send(eapp: App) -> None:
    """The hook queues the alert itself: no monitor tick is needed for the first one."""
    await on_call_team(eapp)
    await start_t0(eapp)
    await say(eapp, "2")
    await eapp.handle_inbound(Inbound("console", "console:alice", "1"))  # no drain
    code = await last_code(eapp)
    assert await notifications(eapp, code) == [
        ("ana", "sms", 1, "queued"),
        ("ana", "telegram", 1, "queued"),
    ]
    row = await eapp.db.fetchone(
        "SELECT priority, lane FROM outbox WHERE staff_id IS NOT NULL ORDER BY id LIMIT 1"
    )
    assert row is not None and row[0] == 0 and row[1].startswith("staff:")


async def test_her_side_shows_emergency_number_and_programme_helpline_at_once(
    eapp: App, console: ConsoleChannel
) -> None:
    await on_call_team(eapp)
    await raise_high(eapp)
    help_line = console.sent[-1]
    assert help_line.kind == "help"
    assert help_line.text.startswith(
        "If you are in danger now, call 999. You can also call Helpline 0800 000 0000."
    )
    assert "Would you like to go on with the questions?" in help_line.text
    assert "1 Yes, go on" in help_line.text and "2 Stop for now" in help_line.text
    await say(eapp, "2")  # stop for now
    assert console.sent[-1].text == "OK. Thank you, take care."


async def test_duress_word_ends_like_a_normal_end_and_raises_urgent_silently(
    config: Config, clock: ManualClock, telegram: RecordingChannel, sms: RecordingChannel
) -> None:
    """The messages her phone gets for the duress word equal those of finishing the survey."""
    from tests.bot.conftest import enrol_console

    last_step: dict[str, list[tuple[str, str]]] = {}
    for case in ("normal", "duress"):
        console = ConsoleChannel()
        path = config.database.path + case
        cfg = dataclasses.replace(config, database=dataclasses.replace(config.database, path=path))
        app = await open_app(
            cfg, {"console": console, "telegram": telegram, "sms": sms}, clock=clock
        )
        try:
            await enrol_console(app, duress_word="tulip")
            await on_call_team_existing(app)
            await start_t0(app)
            await say(app, "1")  # safe now
            before = len(console.sent)
            if case == "duress":
                await say(app, "well tulip then")
            else:
                while console.sent[-1].kind != "closing":
                    before = len(console.sent)
                    await say(app, "skip")
            last_step[case] = [(r.kind, r.text) for r in console.sent[before:]]
            rows = await escalations(app)
            deletion = await app.db.fetchone(
                "SELECT not_before > created_at FROM outbox WHERE kind = 'delete'"
            )
            assert deletion is not None and deletion[0] == 1  # the same delayed clear-up
            if case == "duress":
                assert rows == [("URGENT", ("duress_word",))]
                assert any("duress_word" in t for t in telegram.texts(ANA_TG))
            else:
                assert rows == []
        finally:
            await app.close()
    assert last_step["duress"] == last_step["normal"] == [("closing", m.CLOSING)]


async def on_call_team_existing(app: App) -> None:
    from .conftest import add_staff

    ana = await add_staff(app, "ana", telegram_user_id=ANA_TG, phone=ANA_PHONE)
    programme = await app.service.programmes.by_name("demo", Scope.installation())
    assert programme is not None
    async with app.db.transaction() as tx:
        await app.staff.set_routes(tx, programme.id, [ana.id], [])


FREE_TEXT = "Gwendolyn from Leeds knows everything"


async def test_no_alert_contains_anything_she_wrote_or_answered(
    config: Config,
    clock: ManualClock,
    console: ConsoleChannel,
    telegram: RecordingChannel,
    sms: RecordingChannel,
) -> None:
    """Answer everything (risk answers included, free text on), then hold every alert text
    against every stored answer: its code, its choice label, and the free text."""
    cfg = dataclasses.replace(config, survey=SurveyConfig(free_text=True))
    app = await open_app(cfg, {"console": console, "telegram": telegram, "sms": sms}, clock=clock)
    try:
        await on_call_team(app)
        await start_t0(app)
        for _ in range(80):
            last = console.sent[-1]
            if last.kind == "closing":
                break
            if last.kind == "help":
                await say(app, "1")
            elif "number from" in last.text or "Reply a number" in last.text:
                await say(app, "7")
            elif "1 Yes" in last.text:
                await say(app, "1")  # yes to every risk question
            elif "1 " in last.text:
                await say(app, "2")  # second choice: 'Once' for frequency items
            else:
                await say(app, FREE_TEXT)
        pid = (await app.service.participants.by_address("console", "console:alice")).id  # type: ignore[union-attr]
        answers = await app.service.answers.for_timepoint(pid, "T0")
        assert answers["comments"].value == FREE_TEXT
        assert len(answers) > 15
        survey = app.service.survey
        forbidden = {FREE_TEXT.lower(), "gwendolyn", "leeds"}
        for item_id, answer in answers.items():
            item = survey.item(item_id)
            values = answer.value if isinstance(answer.value, list | tuple) else [answer.value]
            for value in values:
                forbidden.add(str(value).lower())
                for choice in item.choices:
                    if choice.code == value:
                        forbidden.add(choice.label.lower())
        clock.advance(timedelta(days=1))  # past the 09:00 digest: ROUTINE contact_request
        await monitor(app).tick()
        await app.dispatcher.drain_all()
        staff_texts = telegram.texts() + sms.texts()
        assert any("Daily digest" in t and "contact_request" in t for t in staff_texts)
        assert len(staff_texts) >= 16  # every URGENT/HIGH rule fired, two routes each
        for text in staff_texts:
            lowered = text.lower()
            words = set(re.findall(r"[\w']+", lowered))
            for bad in forbidden:
                if " " in bad:
                    assert bad not in lowered, (bad, text)
                else:
                    assert bad not in words, (bad, text)
    finally:
        await app.close()
