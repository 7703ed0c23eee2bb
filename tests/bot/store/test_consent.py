"""No consent, no contact: enrolment refuses, and the service never opens a contact."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.channels.console import ConsoleChannel
from bot.enrolment.rules import EnrolmentError, enrol
from bot.runtime.app import App
from bot.store import timepoints as tps
from bot.store.consent import REAFFIRM_ANSWERS, Consent, consent_of, reaffirm
from bot.store.db import Database
from bot.store.participants import NewParticipant
from bot.store.schema import MIGRATIONS
from conversations.build import CONSENT_CHOICES
from tests.bot.conftest import add_programme, enrol_console


async def test_enrol_without_consent_stores_nothing(app: App) -> None:
    programme_id = await add_programme(app)
    for consent in (None, Consent("v1", date(2026, 12, 1), "Ana")):  # none, or in the future
        with pytest.raises(EnrolmentError):
            await enrol(
                app.stores, app.config, app.service.survey, programme_id=programme_id, channel="console", language="en",
                timezone="Europe/London", today=date(2026, 11, 24), now=app.service.clock.now(),
                consent=consent, address="console:x",
            )  # fmt: skip
    row = await app.db.fetchone("SELECT COUNT(*) FROM participants")
    assert row is not None and row[0] == 0
    with pytest.raises(ValueError):
        Consent(" ", date(2026, 11, 1), "Ana")


async def test_consent_is_recorded_with_enrolment(app: App) -> None:
    participant = await enrol_console(app)
    assert await consent_of(app.db, participant.id) == Consent(
        "v1", date(2026, 11, 20), "Test Worker"
    )


async def test_no_contact_without_a_consent_record(app: App, console: ConsoleChannel) -> None:
    programme_id = await add_programme(app)
    new = NewParticipant(programme_id, "console", "en", "Europe/London", date(2026, 11, 24),
                         address="console:legacy")  # fmt: skip
    async with app.db.transaction() as tx:  # e.g. a row from before consent records existed
        legacy = await app.service.participants.create(tx, new, app.service.clock.now())
    assert await app.service.begin_contact(legacy.id, "T0") is None
    await app.dispatcher.drain_all()
    assert console.sent == []
    row = await app.db.fetchone("SELECT COUNT(*) FROM outbox")
    assert row is not None and row[0] == 0
    enrolled = await enrol_console(app)
    assert await app.service.begin_contact(enrolled.id, "T0") is not None


# --- consent reaffirmed per timepoint (migration 11) -------------------------------


BEFORE_REAFFIRMED = 10


async def test_migration_11_keeps_every_timepoint_and_allows_declined(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    for script in MIGRATIONS[:BEFORE_REAFFIRMED]:
        conn.executescript(script)
    conn.execute(f"PRAGMA user_version={BEFORE_REAFFIRMED}")
    at = "2026-01-01T00:00:00.000000Z"
    conn.execute("INSERT INTO programmes (id, name, organisation_id, created_at)"
                 " VALUES (1, 'berlin', 1, ?)", (at,))  # fmt: skip
    conn.execute(
        "INSERT INTO participants (id, pseudonym, programme_id, channel, language, timezone,"
        " enrolled_on, created_at, updated_at) VALUES ('p1', 'P-AAAAA', 1, 'sms', 'en', 'UTC',"
        " '2026-01-01', ?, ?)",
        (at, at),
    )
    conn.execute(
        "INSERT INTO timepoints (participant_id, timepoint, due_on, state, wave_id, openers_sent)"
        " VALUES ('p1', 'T1', '2026-03-01', 'sent', 'W1-T1-20260301', 2)"
    )
    conn.commit()
    conn.close()

    db = await Database.open(path)
    try:
        assert await db.migrate() == len(MIGRATIONS)
        row = await db.fetchone("SELECT * FROM timepoints WHERE participant_id = 'p1'")
        assert row is not None
        assert (row["state"], row["wave_id"], row["openers_sent"]) == ("sent", "W1-T1-20260301", 2)
        assert row["consent_answer"] is None
        async with db.transaction() as tx:
            await reaffirm(tx, "p1", "T1", "not_this_time", datetime(2026, 3, 1, tzinfo=UTC))
            await tx.execute("UPDATE timepoints SET state = 'declined' WHERE participant_id = 'p1'")
        row = await db.fetchone("SELECT consent_answer, consent_version, state FROM timepoints")
        assert row is not None and tuple(row) == ("not_this_time", None, "declined")
        with pytest.raises(sqlite3.IntegrityError):
            async with db.transaction() as tx:
                await tx.execute("UPDATE timepoints SET consent_answer = 'maybe'")
        indexes = await db.fetchall("SELECT name FROM sqlite_master WHERE tbl_name = 'timepoints'"
                                    " AND type = 'index' AND name LIKE 'timepoints_%'")  # fmt: skip
        assert {r[0] for r in indexes} == {"timepoints_due", "timepoints_wave", "timepoints_due_on"}
    finally:
        await db.close()


async def test_reaffirm_stores_the_version_on_record_and_refuses_other_answers(app: App) -> None:
    her = await enrol_console(app)
    async with app.db.transaction() as tx:
        await tps.ensure(tx, her.id, "T0", None)
        await reaffirm(tx, her.id, "T0", "stop", datetime(2026, 11, 24, 9, tzinfo=UTC))
    row = await app.db.fetchone(
        "SELECT consent_answer, consent_version, consent_at FROM timepoints WHERE timepoint = 'T0'"
    )
    assert row is not None and tuple(row) == ("stop", "v1", "2026-11-24T09:00:00.000000Z")
    assert tuple(c.code for c in CONSENT_CHOICES) == REAFFIRM_ANSWERS
    with pytest.raises(ValueError, match="not an answer"):
        async with app.db.transaction() as tx:
            await reaffirm(tx, her.id, "T0", "perhaps", datetime(2026, 11, 24, tzinfo=UTC))
