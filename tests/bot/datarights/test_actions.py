"""Withdrawal (her word or staff) and erasure, under both programme policies.

After an erasure no row, blind index, file byte or log line may link to her.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest

from bot.channels.console import ConsoleChannel
from bot.clock import ManualClock
from bot.datarights.actions import erase, withdraw
from bot.enrolment.tokens import new_token, store_token
from bot.runtime.app import App
from bot.store.participants import Participant, address_purpose
from bot.store.research import anonymous_records
from tests.bot.support_sealed_rows import escalations

from ..conftest import add_programme
from .support_datarights import ADDRESS, PHONE, answered_t0, rows_mentioning, say

POLICIES = ["erase", "keep_anonymous"]


async def count(app: App, sql: str, *params: object) -> int:
    row = await app.db.fetchone(sql, params)
    assert row is not None
    return int(row[0])


async def setup(app: App, policy: str) -> Participant:
    await add_programme(app, "demo", on_withdrawal=policy)
    return await answered_t0(app)


@pytest.mark.parametrize("policy", POLICIES)
async def test_her_withdraw_word_with_her_code_word_ends_contact_and_applies_policy(
    app: App, console: ConsoleChannel, policy: str
) -> None:
    await add_programme(app, "demo", on_withdrawal=policy)
    p = await answered_t0(app, code_word="heron")
    answered = await count(app, "SELECT COUNT(*) FROM answers WHERE participant_id = ?", p.id)
    assert answered > 10
    await app.service.begin_contact(p.id, "T1")
    await say(app, "yes")
    sent_before = len(console.sent)
    report = await say(app, "WITHDRAW")  # her code word first: the phone may not be in her hand
    assert report is not None and report.state.outcome is None
    assert [m.kind for m in console.sent[sent_before:]] == ["code"]
    row = await app.db.fetchone("SELECT status FROM participants")
    assert row is not None and row["status"] == "active"
    report = await say(app, "heron")
    assert report is not None and report.state.outcome == "withdrawn"
    assert [m.kind for m in console.sent[sent_before:]] == ["code", "decoy"]
    row = await app.db.fetchone("SELECT status, withdrawn_at, research_enc FROM participants")
    assert row is not None and row["status"] == "withdrawn" and row["withdrawn_at"]
    assert row["research_enc"] is None  # the only link to a research id is gone
    for table in ("answers", "sessions", "timepoints"):
        assert await count(app, f"SELECT COUNT(*) FROM {table}") == 0, table
    kept = await anonymous_records(app.db, app.ring, p.programme_id)
    assert [(r.timepoint, r.state, r.invited) for r in kept] == [
        ("T0", "completed", True),
        ("T1", "withdrawn", True),
        *((tp, "withdrawn", False) for tp in ("T2", "T3", "T4")),  # planned, never asked
    ]
    if policy == "keep_anonymous":
        assert len(kept[0].answers) == answered
        assert kept[0].answers["safe_now"].value == "yes"
    else:
        assert kept[0].answers == {}
        assert await count(app, "SELECT COUNT(*) FROM research_answers") == 0
    # Her whole chat was deleted; only the goodbye line sent afterwards remains, as after
    # the safe word.
    assert await count(app, "SELECT COUNT(*) FROM transcript WHERE deleted_at IS NULL") == 1
    # Nothing re-activates her; what she still writes is recorded and deleted, unanswered.
    sent_after = len(console.sent)
    report = await say(app, "yes")
    assert report is not None and report.effects == []
    assert await app.service.begin_contact(p.id, "T1") is None
    assert len(console.sent) == sent_after
    actions = [r[0] for r in await app.db.fetchall("SELECT action FROM audit_log")]
    assert "participant_withdrawn" in actions


@pytest.mark.parametrize("policy", POLICIES)
async def test_her_withdraw_word_without_a_code_word_pauses_and_asks_the_wss(
    app: App, console: ConsoleChannel, clock: ManualClock, policy: str
) -> None:
    """Someone holding her phone cannot withdraw her: staff confirm with her, then withdraw."""
    p = await setup(app, policy)
    answered = await count(app, "SELECT COUNT(*) FROM answers WHERE participant_id = ?", p.id)
    sent_before = len(console.sent)
    await say(app, "WITHDRAW")
    clock.advance(timedelta(seconds=10))  # the decoy follows the deletion of her chat
    await app.dispatcher.drain_all()
    assert [m.kind for m in console.sent[sent_before:]] == ["decoy"]
    row = await app.db.fetchone("SELECT status, withdrawn_at, research_enc FROM participants")
    assert row is not None and row["status"] == "paused" and row["withdrawn_at"] is None
    assert await count(app, "SELECT COUNT(*) FROM answers") == answered  # nothing lost
    assert (await escalations(app))[-1] == ("ROUTINE", ("withdraw_requested",))
    assert await count(app, "SELECT COUNT(*) FROM transcript WHERE deleted_at IS NULL") == 1
    assert await app.service.begin_contact(p.id, "T1") is None  # paused: no more contact
    assert await withdraw(app.stores, app.service.delete_chat, p, "cli:worker") == policy
    row = await app.db.fetchone("SELECT status FROM participants")
    assert row is not None and row["status"] == "withdrawn"


@pytest.mark.parametrize("policy", POLICIES)
async def test_staff_withdrawal_cancels_pending_messages(app: App, policy: str) -> None:
    await add_programme(app, "demo", on_withdrawal=policy)
    p = await answered_t0(app)
    await app.service.begin_contact(p.id, "T1")  # opener queued, not sent
    assert await withdraw(app.stores, app.service.delete_chat, p, "cli:worker") == policy
    states = await app.db.fetchall(
        "SELECT kind, state FROM outbox WHERE participant_id = ? ORDER BY id DESC LIMIT 2", (p.id,)
    )
    assert ("message", "cancelled") in [(r[0], r[1]) for r in states]
    audit = await app.db.fetchone(
        "SELECT actor, subject, detail FROM audit_log WHERE action = 'participant_withdrawn'"
    )
    assert audit is not None and tuple(audit) == ("cli:worker", p.pseudonym, f"answers: {policy}")


@pytest.mark.parametrize("policy", POLICIES)
async def test_erasure_leaves_nothing_that_links_to_her(
    app: App, config: object, clock: ManualClock, policy: str, caplog: pytest.LogCaptureFixture
) -> None:
    p = await setup(app, policy)
    token = new_token()
    async with app.db.transaction() as tx:
        await store_token(tx, app.ring, p.id, token, clock.now(), timedelta(days=14))
    row = await app.db.fetchone("SELECT * FROM participants WHERE id = ?", (p.id,))
    assert row is not None
    needles: list[str | bytes] = [
        p.id,
        p.pseudonym,
        PHONE,
        bytes(row["address_idx"]),
        bytes(row["safe_hash"]),
        *app.ring.blind_indexes("enrol-token", token),
        *app.ring.blind_indexes(address_purpose("console"), ADDRESS),
    ]
    assert await rows_mentioning(app, needles)  # the search finds her before
    await app.service.begin_contact(p.id, "T1")  # an opener on her phone
    await app.dispatcher.drain_all()

    caplog.set_level(logging.DEBUG, logger="bot")
    result = await erase(app.stores, app.service.delete_chat, p, "cli:worker")
    assert result.chat_deletion_queued  # her last messages are still on the phone
    await app.dispatcher.drain_all()
    assert await count(app, "SELECT COUNT(*) FROM participants") == 1  # a nameless tombstone
    tomb = await app.db.fetchone("SELECT pseudonym, status, address_enc FROM participants")
    assert tomb is not None and tomb["status"] == "erased" and tomb["address_enc"] is None
    clock.advance(timedelta(minutes=1))
    from bot.datarights.core import purge_erased

    assert await purge_erased(app.db, clock.now()) == 1
    assert await rows_mentioning(app, needles) == []
    assert await count(app, "SELECT COUNT(*) FROM participants") == 0
    for table in ("answers", "sessions", "timepoints", "outbox", "transcript", "enrol_tokens",
                  "consents"):  # fmt: skip
        assert await count(app, f"SELECT COUNT(*) FROM {table}") == 0, table
    # Escalations stay for the support service and the statistics, without her.
    assert await count(app, "SELECT COUNT(*) FROM escalations") > 0
    assert (
        await count(app, "SELECT COUNT(*) FROM escalations WHERE participant_id IS NOT NULL") == 0
    )
    erased = await app.db.fetchall(
        "SELECT subject, detail FROM audit_log WHERE action = 'participant_erased'"
    )
    assert [tuple(r) for r in erased] == [
        (
            None,
            f"programme demo; answers {'kept anonymous' if policy == 'keep_anonymous' else 'erased'}",
        )
    ]
    subjects = {r[0] for r in await app.db.fetchall("SELECT subject FROM audit_log")}
    assert "[erased]" in subjects  # her earlier entries, e.g. enrolment, now say only this
    kept = await count(app, "SELECT COUNT(*) FROM research_answers")
    assert (kept > 0) == (policy == "keep_anonymous")
    for record in caplog.records:
        message = record.getMessage()
        assert p.id not in message and p.pseudonym not in message and PHONE not in message

    db_path = Path(app.db.path)
    stored = b"".join(
        f.read_bytes() for f in db_path.parent.iterdir() if f.name.startswith(db_path.name)
    )
    for needle in (p.pseudonym.encode(), p.id.encode(), PHONE.encode()):
        assert needle not in stored


async def test_erase_all_answers_overrides_keep_policy(app: App) -> None:
    p = await setup(app, "keep_anonymous")
    result = await erase(app.stores, app.service.delete_chat, p, "cli:worker", all_answers=True)
    assert result.answers == "erased"
    assert await count(app, "SELECT COUNT(*) FROM research_answers") == 0
    states = await app.db.fetchall("SELECT timepoint, state FROM research_timepoints ORDER BY 1")
    assert [tuple(r) for r in states] == [  # anonymous counts for response rates
        ("T0", "completed"),
        *((tp, "withdrawn") for tp in ("T1", "T2", "T3", "T4")),
    ]


async def test_erasing_a_woman_who_withdrew(app: App) -> None:
    p = await setup(app, "keep_anonymous")
    await withdraw(app.stores, app.service.delete_chat, p, "cli:worker")
    withdrawn = await app.service.participants.get(p.id)
    result = await erase(app.stores, app.service.delete_chat, withdrawn, "cli:worker")
    assert result.answers == "already handled when she withdrew"
    await app.dispatcher.drain_all()
    from bot.datarights.core import purge_erased

    await purge_erased(app.db, app.service.clock.now() + timedelta(seconds=1))
    assert await rows_mentioning(app, [p.id, p.pseudonym]) == []
    assert await count(app, "SELECT COUNT(*) FROM research_answers") > 0
