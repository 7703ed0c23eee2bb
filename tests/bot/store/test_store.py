"""The store: migrations, sealed fields, blind-index look-ups, state that survives a reopen."""

from __future__ import annotations

from pathlib import Path

from bot.channels.console import ConsoleChannel
from bot.clock import ManualClock
from bot.config import Config
from bot.runtime.app import App, open_app
from bot.store.db import Database
from bot.store.schema import MIGRATIONS
from conversations.answers import Answer
from conversations.state import SessionState
from tests.bot.conftest import enrol_console


async def test_migrations_from_an_empty_file(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "new.db")
    row = await db.fetchone("PRAGMA user_version")
    assert row is not None and row[0] == len(MIGRATIONS)
    tables = {r[0] for r in await db.fetchall("SELECT name FROM sqlite_master WHERE type='table'")}
    for table in ("programmes", "participants", "timepoints", "sessions", "answers", "outbox",
                  "transcript", "inbound_seen", "escalations", "escalation_notifications",
                  "enrol_tokens", "audit_log", "staff"):  # fmt: skip
        assert table in tables
    mode = await db.fetchone("PRAGMA journal_mode")
    assert mode is not None and mode[0] == "wal"
    fk = await db.fetchone("PRAGMA foreign_keys")
    assert fk is not None and fk[0] == 1
    assert await db.migrate() == len(MIGRATIONS)  # idempotent
    await db.close()


async def test_address_sealed_and_found_by_blind_index(app: App) -> None:
    participant = await enrol_console(app, "console:+447700900123")
    raw = await app.db.fetchone("SELECT address_enc, address_idx FROM participants")
    assert raw is not None
    assert b"447700900123" not in bytes(raw["address_enc"])
    found = await app.service.participants.by_address("console", "console:+447700900123")
    assert found is not None and found.id == participant.id
    assert found.address(app.ring) == "console:+447700900123"
    assert await app.service.participants.by_address("sms", "console:+447700900123") is None
    assert participant.pseudonym.startswith("P-") and len(participant.pseudonym) == 7


async def test_secret_words_stored_only_as_hashes(app: App) -> None:
    await enrol_console(app, code_word="bluebird")
    row = await app.db.fetchone("SELECT safe_hash, code_hash FROM participants")
    assert row is not None
    assert b"pineapple" not in bytes(row["safe_hash"])
    participant = await app.service.participants.by_address("console", "console:alice")
    assert participant is not None
    words = participant.secrets(app.ring)
    assert words.has_safe_word("oh PINEAPPLE!")
    assert words.is_code_word("Bluebird")


async def test_state_and_answers_survive_a_reopen(
    config: Config, clock: ManualClock, console: ConsoleChannel
) -> None:
    first = await open_app(config, {"console": console}, clock=clock)
    participant = await enrol_console(first)
    state = SessionState(
        "T0", phase="question", current="fear", answers={"safe_now": Answer("yes")}
    )
    async with first.db.transaction() as tx:
        sid = await first.service.sessions.save(tx, participant.id, state, clock.now())
        await first.service.answers.save(tx, participant.id, "T0", "fear", Answer(7), clock.now())
    await first.close()

    second = await open_app(config, {"console": console}, clock=clock)
    stored = await second.service.sessions.get(sid)
    assert stored is not None and stored.state == state
    answers = await second.service.answers.for_timepoint(participant.id, "T0")
    assert answers == {"fear": Answer(7)}
    await second.close()


async def test_failed_transaction_leaves_nothing(app: App) -> None:
    participant = await enrol_console(app)
    try:
        async with app.db.transaction() as tx:
            await app.service.answers.save(
                tx, participant.id, "T0", "fear", Answer(3), app.service.clock.now()
            )
            raise RuntimeError("crash mid-step")
    except RuntimeError:
        pass
    assert await app.service.answers.for_timepoint(participant.id, "T0") == {}
