"""PostgreSQL behind the same store: migrations and their version table, the two migration
lists kept in step, and nothing in clear in a ``pg_dump`` of what the service wrote."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import psycopg
import pytest

from bot.channels.console import ConsoleChannel
from bot.clock import ManualClock
from bot.config import Config
from bot.crypto import KeyFileError
from bot.runtime.app import App, open_app
from bot.store.open_database import open_database
from bot.store.postgres_db import PostgresDatabase
from bot.store.schema import MIGRATIONS
from bot.store.schema_postgres import POSTGRES_MIGRATIONS, VERSION_TABLE
from conversations.answers import Answer
from tests.bot.conftest import enrol_console
from tests.bot.support_postgres import pg_dump

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
PHONE = "+447700900123"
STAFF_PHONE = "+447700900456"
CHAT_ID = "918273645501"
FREE_TEXT = "he waited outside the school gate on Tuesday"


def key_file_name(path: str) -> str:
    return os.path.basename(path)


def test_both_backends_have_the_same_numbered_migrations() -> None:
    assert len(POSTGRES_MIGRATIONS) == len(MIGRATIONS), (
        "schema.MIGRATIONS and schema_postgres.POSTGRES_MIGRATIONS differ in length: every"
        " SQLite migration needs its PostgreSQL twin with the same number"
    )


async def test_migrations_from_an_empty_schema_then_again_a_no_op(postgres_url: str) -> None:
    db = await open_database(postgres_url, migrate=False)
    try:
        assert isinstance(db, PostgresDatabase)
        assert await db.schema_version() == 0
        await db.migrate()
        assert await db.schema_version() == len(MIGRATIONS)
        tables = {r[0] for r in await db.fetchall(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        )}  # fmt: skip
        for table in ("programmes", "participants", "timepoints", "sessions", "answers",
                      "outbox", "transcript", "inbound_seen", "escalations", "staff",
                      "organisations", "staff_organisations", VERSION_TABLE):  # fmt: skip
            assert table in tables
        kinds = dict(await db.fetchall(
            "SELECT column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = 'participants'"
        ))  # fmt: skip
        assert kinds["address_enc"] == kinds["address_idx"] == kinds["safe_hash"] == "bytea"
        await db.migrate()  # again: nothing to do, nothing changes
        rows = await db.fetchall(f"SELECT version FROM {VERSION_TABLE}")
        assert [tuple(r) for r in rows] == [(len(MIGRATIONS),)]
        organisation = await db.fetchall("SELECT id, name FROM organisations")
        assert [tuple(r) for r in organisation] == [(1, "default")]
    finally:
        await db.close()


async def test_an_identity_id_after_the_default_organisation_is_new(postgres_url: str) -> None:
    db = await open_database(postgres_url)
    try:
        async with db.transaction() as tx:
            cur = await tx.execute(
                "INSERT INTO organisations (name, language, created_at) VALUES (?, ?, ?)",
                ("second", "en", "2026-11-24T10:00:00.000000Z"),
            )
            assert cur.lastrowid == 2
    finally:
        await db.close()


async def test_migration_11_lets_a_timepoint_be_declined_and_keeps_consent_answers(
    postgres_url: str,
) -> None:
    """Consent reaffirmed per timepoint (issue 20) on PostgreSQL, as SQLite's migration 11."""
    db = await open_database(postgres_url)
    try:
        with psycopg.connect(postgres_url, autocommit=True) as conn:

            def columns(table: str) -> set[str]:
                return {r[0] for r in conn.execute(
                    "SELECT column_name FROM information_schema.columns"
                    " WHERE table_schema = current_schema() AND table_name = %s", (table,)
                )}  # fmt: skip

            assert {"consent_answer", "consent_version", "consent_at"} <= columns("timepoints")
            assert {"consent_answer", "consent_version"} <= columns("research_timepoints")
            conn.execute(
                "INSERT INTO programmes (name, organisation_id, created_at) VALUES ('p', 1, 'x')"
            )
            conn.execute(
                "INSERT INTO participants (id, pseudonym, programme_id, channel, language,"
                " timezone, enrolled_on, created_at, updated_at) SELECT 'a', 'P-AAAAA', id,"
                " 'console', 'en', 'UTC', 'x', 'x', 'x' FROM programmes"
            )
            conn.execute(
                "INSERT INTO timepoints (participant_id, timepoint, state, consent_answer)"
                " VALUES ('a', 'T0', 'declined', 'not_this_time')"
            )
            with pytest.raises(psycopg.errors.CheckViolation):
                conn.execute(
                    "INSERT INTO timepoints (participant_id, timepoint, consent_answer)"
                    " VALUES ('a', 'T1', 'maybe')"
                )
    finally:
        await db.close()


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_nothing_in_clear_in_a_pg_dump(app: App, backend: str) -> None:
    """Phone numbers, a chat id, the secret words and a free-text answer, written through the
    PostgreSQL backend, appear nowhere in a dump of its schema; the store reads them back."""
    participant = await enrol_console(app, f"console:{PHONE}", code_word="bluebird")
    telegram = await enrol_console(app, f"console:{CHAT_ID}")
    async with app.db.transaction() as tx:
        await app.stores.staff.add(
            tx, name="Worker", role="wss", language="en", now=NOW,
            telegram_user_id=CHAT_ID, phone=STAFF_PHONE,
        )  # fmt: skip
        await app.stores.answers.save(tx, participant.id, "T0", "free_text", Answer(FREE_TEXT), NOW)
    dump = pg_dump(app.config.database.url)
    assert participant.pseudonym.encode() in dump  # the dump holds the rows themselves
    for clear in (PHONE, STAFF_PHONE, CHAT_ID, "pineapple", "bluebird", FREE_TEXT):
        for form in (clear, clear.lstrip("+")):
            assert form.encode() not in dump, f"{form!r} in clear in pg_dump"
    found = await app.service.participants.by_address("console", f"console:{PHONE}")
    assert found is not None and found.id == participant.id
    assert found.address(app.ring) == f"console:{PHONE}"
    assert telegram.id != participant.id
    answers = await app.stores.answers.for_timepoint(participant.id, "T0")
    assert answers["free_text"] == Answer(FREE_TEXT)


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_a_missing_key_file_is_not_replaced_beside_sealed_rows(
    app: App, backend: str, config: Config, clock: ManualClock, console: ConsoleChannel
) -> None:
    await enrol_console(app, f"console:{PHONE}")
    await app.close()
    key_file = config.security.key_file
    os.unlink(key_file)
    with pytest.raises(KeyFileError, match="already holds fields sealed"):
        await open_app(config, {"console": console}, clock=clock)
    assert key_file_name(key_file) not in os.listdir(os.path.dirname(key_file))
