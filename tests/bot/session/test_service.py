"""The service applies each step in one transaction: answers, state, outbox, escalations."""

from __future__ import annotations

import asyncio
import logging
import os
from datetime import timedelta
from pathlib import Path

import pytest

from bot import crypto
from bot.channels.base import Inbound
from bot.channels.console import ConsoleChannel
from bot.clock import ManualClock
from bot.crypto import write_keyring
from bot.datarights.actions import withdraw
from bot.runtime.app import App
from conversations.answers import Answer
from tests.bot.conftest import enrol_console
from tests.bot.support_hand_offs import count_hand_offs
from tests.bot.support_sealed_rows import escalations


async def say(
    app: App, text: str, address: str = "console:alice", provider_id: str | None = None
) -> None:
    await app.service.handle_inbound(Inbound("console", address, text, provider_id=provider_id))
    await app.dispatcher.drain_all()


async def started(app: App) -> str:
    participant = await enrol_console(app)
    await app.service.begin_contact(participant.id, "T0")
    await app.dispatcher.drain_all()
    await say(app, "yes")  # now is a good time
    await say(app, "yes")  # still OK to ask (consent, issue 20)
    return participant.id


async def test_answers_are_stored_and_replies_sent(app: App, console: ConsoleChannel) -> None:
    pid = await started(app)
    await say(app, "1")  # safe_now yes
    await say(app, "never")  # viol_physical
    answers = await app.service.answers.for_timepoint(pid, "T0")
    assert answers == {"safe_now": Answer("yes"), "viol_physical": Answer("never")}
    assert console.sent[0].kind == "opener"
    assert "sexual" in console.sent[-1].text


async def test_each_step_is_one_message_and_one_outbox_row(
    app: App, console: ConsoleChannel
) -> None:
    """The how-to line, the intro and the first question are one message (issue 17)."""
    pid = await started(app)
    assert [m.kind for m in console.sent] == ["opener", "consent", "question"]
    first = console.sent[-1].text
    assert first.startswith("Reply SKIP to skip a question")
    assert "Do you feel safe right now?" in first and "\n\n" in first
    assert first.endswith("1 Yes\n2 No")
    await say(app, "1")
    rows = await app.db.fetchall(
        "SELECT COUNT(*) FROM outbox WHERE participant_id = ? AND kind = 'message'", (pid,)
    )
    # opener, consent question, first step, one reply per answer
    assert rows[0][0] == 4 == len(console.sent)


async def test_unknown_sender_gets_nothing_and_leaves_a_counter(
    app: App, console: ConsoleChannel
) -> None:
    await enrol_console(app)
    await say(app, "hello", address="console:stranger")
    await say(app, "hello again", address="console:stranger")
    assert console.sent == []
    row = await app.db.fetchone("SELECT value FROM counters WHERE name = 'unknown_sender:console'")
    assert row is not None and row[0] == 2
    for table in ("sessions", "transcript", "outbox", "inbound_seen"):
        count = await app.db.fetchone(f"SELECT COUNT(*) FROM {table}")
        assert count is not None and count[0] == 0, table


async def test_duplicate_provider_id_is_processed_once(app: App) -> None:
    pid = await started(app)
    await say(app, "1", provider_id="upd-1")
    await say(app, "2", provider_id="upd-1")  # a redelivery, even with other text
    answers = await app.service.answers.for_timepoint(pid, "T0")
    assert answers == {"safe_now": Answer("yes")}


async def test_safe_word_pauses_contact_and_nothing_reactivates(
    app: App, console: ConsoleChannel
) -> None:
    pid = await started(app)
    await say(app, "Pineapple")
    participant = await app.service.participants.get(pid)
    assert participant.status == "paused"
    assert console.sent[-1].kind == "decoy"
    sent_before = len(console.sent)
    await say(app, "yes")
    await say(app, "hello, can we carry on?")
    assert len(console.sent) == sent_before
    assert await app.service.begin_contact(pid, "T1") is None
    row = await app.db.fetchone("SELECT state FROM escalations")
    assert row is not None


async def test_risk_answer_escalates_in_same_transaction(app: App) -> None:
    pid = await started(app)
    await say(app, "1")
    await say(app, "2")  # physical violence once -> HIGH
    rows = await app.db.fetchall("SELECT participant_id FROM escalations")
    assert [r["participant_id"] for r in rows] == [pid]
    assert await escalations(app) == [("HIGH", ("new_physical_violence",))]
    audit = await app.db.fetchall("SELECT action FROM audit_log WHERE action = 'escalation_raised'")
    assert len(audit) == 1


async def test_pending_questions_are_cancelled_on_safe_word(
    app: App, console: ConsoleChannel
) -> None:
    pid = await started(app)
    await app.service.handle_inbound(
        Inbound("console", "console:alice", "1")
    )  # reply queued, not sent
    await app.service.handle_inbound(Inbound("console", "console:alice", "pineapple"))
    await app.dispatcher.drain_all()
    kinds = [m.kind for m in console.sent]
    assert kinds[-1] == "decoy"
    # how-to, intro and safe_now went as one message; viol_physical never sent
    assert kinds == ["opener", "consent", "question", "decoy"]
    states = await app.db.fetchall("SELECT state FROM outbox WHERE participant_id = ?", (pid,))
    assert "cancelled" in {r["state"] for r in states}


async def test_message_of_a_rolled_back_step_is_never_sent(
    app: App, console: ConsoleChannel
) -> None:
    """The dispatcher shares the connection: a row it saw mid-transaction must not go out."""
    from bot.store.outbox import PRIORITY_LIVE

    participant = await enrol_console(app)
    sent_before = len(console.sent)
    try:
        async with app.db.transaction() as tx:
            await app.service.outbox.enqueue(
                tx, lane=f"p:{participant.id}", channel="console", kind="message",
                priority=PRIORITY_LIVE, now=app.service.clock.now(),
                payload={"address": "console:alice", "message": {"text": "never"}},
            )  # fmt: skip
            rows = await app.service.outbox.due("console", app.service.clock.now())
            assert rows, "the dispatcher can see the uncommitted row"
            pending = asyncio.create_task(app.dispatcher.drain("console"))
            await asyncio.sleep(0.05)
            raise RuntimeError("step failed")
    except RuntimeError:
        pass
    await pending
    assert len(console.sent) == sent_before


async def test_dispatcher_is_woken_only_after_commit(app: App) -> None:
    woken: list[bool] = []
    app.service.on_outbox = lambda: woken.append(app.db._write.locked())
    participant = await enrol_console(app)
    await app.service.begin_contact(participant.id, "T0")
    assert woken == [False]


@pytest.mark.parametrize("how", ["withdrawn", "opted_out", "paused"])
async def test_a_message_from_an_inactive_woman_is_recorded_and_deleted_unanswered(
    app: App, console: ConsoleChannel, clock: ManualClock, how: str
) -> None:
    """Not a stranger while her address is known: her stray message leaves her chat too."""
    pid = await started(app)
    if how == "withdrawn":
        await withdraw(
            app.stores,
            app.service.delete_chat,
            await app.service.participants.get(pid),
            "cli:worker",
        )
    else:
        await say(app, "STOP" if how == "opted_out" else "pineapple")
    clock.advance(timedelta(minutes=1))
    await app.dispatcher.drain_all()
    assert (await app.service.participants.get(pid)).status == how
    sent = len(console.sent)
    await app.service.handle_inbound(
        Inbound("console", "console:alice", "are you there?", message_ref="in-77")
    )
    clock.advance(timedelta(minutes=1))
    await app.dispatcher.drain_all()
    ref = await app.service.transcript.find("console", "in-77")
    assert ref is not None and ref.participant_id == pid
    row = await app.db.fetchone("SELECT deleted_at FROM transcript WHERE id = ?", (ref.id,))
    assert row is not None and row[0] is not None  # deleted from her chat
    assert len(console.sent) == sent  # and nothing said back


async def test_the_duress_word_between_timepoints_alerts_silently_and_deletes_it(
    app: App, console: ConsoleChannel, clock: ManualClock
) -> None:
    her = await enrol_console(app, duress_word="marmalade")
    await app.service.begin_contact(her.id, "T0")
    await say(app, "yes")
    await say(app, "STOP")  # opted out: no session, no contact
    clock.advance(timedelta(minutes=1))
    await app.dispatcher.drain_all()
    sent = len(console.sent)
    await app.service.handle_inbound(
        Inbound("console", "console:alice", "marmalade", message_ref="in-78")
    )
    clock.advance(timedelta(minutes=1))
    await app.dispatcher.drain_all()
    assert ("URGENT", ("duress_word",)) in await escalations(app)
    assert len(console.sent) == sent
    ref = await app.service.transcript.find("console", "in-78")
    assert ref is not None
    row = await app.db.fetchone("SELECT deleted_at FROM transcript WHERE id = ?", (ref.id,))
    assert row is not None and row[0] is not None


async def test_her_answer_is_one_hand_off_to_the_database_thread(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Look-up, de-dup, session, answer, state and reply row: one call into the thread."""
    pid = await started(app)
    calls = count_hand_offs(app.db, monkeypatch)
    await app.service.handle_inbound(Inbound("console", "console:alice", "1", provider_id="u1"))
    assert len(calls) == 1
    assert await app.service.answers.for_timepoint(pid, "T0") == {"safe_now": Answer("yes")}
    reply = await app.db.fetchone("SELECT COUNT(*) FROM outbox WHERE state = 'pending'")
    assert reply is not None and reply[0] == 1


async def latest_state_key(app: App) -> str:
    row = await app.db.fetchone("SELECT state_enc FROM sessions ORDER BY updated_at DESC")
    assert row is not None
    return app.ring.sealed_with(row[0])


async def test_the_key_file_is_checked_once_per_step_and_a_swapped_one_still_counts(
    app: App, clock: ManualClock, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A step seals several fields (state, answer, reply) but stats the key file once; a
    rotated file is followed from the next step on; one readable by others is refused."""
    pid = await started(app)
    key_file = Path(app.config.security.key_file)
    checks: list[Path] = []
    original = crypto._stamp
    monkeypatch.setattr(crypto, "_stamp", lambda path: checks.append(path) or original(path))
    await app.service.handle_inbound(Inbound("console", "console:alice", "1", provider_id="u1"))
    assert checks == [key_file]
    await app.dispatcher.drain_all()
    rotated = app.ring.with_new_active()
    write_keyring(key_file, rotated)  # `followup keys rotate` in another process
    clock.advance(timedelta(seconds=1))
    await say(app, "never", provider_id="u2")
    assert await latest_state_key(app) == rotated.active == app.ring.active
    exposed = rotated.with_new_active()
    write_keyring(key_file, exposed)
    os.chmod(key_file, 0o644)  # swapped for a file others can read: its keys may be known
    caplog.set_level(logging.ERROR, "bot.crypto")
    clock.advance(timedelta(seconds=1))
    await say(app, "2", provider_id="u3")
    assert await latest_state_key(app) == rotated.active != exposed.active
    assert "readable by others" in caplog.text
    assert len(await app.service.answers.for_timepoint(pid, "T0")) == 3  # she noticed nothing
