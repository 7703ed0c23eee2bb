"""Escalation reasons and session outcomes are sealed: a backup without the key must not
show that a duress word (or the safe word) was used (issue 15 item 13)."""

from __future__ import annotations

import sqlite3
from contextlib import closing

from bot.channels.console import ConsoleChannel
from bot.clock import ManualClock
from bot.config import Config
from bot.runtime.app import App, open_app
from bot.store.escalations import open_reasons
from tests.bot.conftest import enrol_console
from tests.bot.escalation.conftest import say, start_t0
from tests.bot.support_sealed_rows import escalations

#: Why she is paused (the safe word) stays readable for staff in participants.status_reason.
TELLING = ("duress", "safe_word_used")


def clear_values(path: str) -> list[tuple[str, str]]:
    """(table, value) of every text value in the database file."""
    found = []
    with closing(sqlite3.connect(path)) as conn:
        tables = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        for (table,) in tables:
            for row in conn.execute(f"SELECT * FROM {table}"):
                found += [(table, v) for v in row if isinstance(v, str)]
    return found


async def test_nothing_in_clear_says_a_duress_word_was_used_or_why_an_alert_was_raised(
    app: App, config: Config
) -> None:
    await enrol_console(app, "console:alice", duress_word="marmalade")
    await enrol_console(app, "console:bea")
    await start_t0(app, "console:alice")
    await say(app, "marmalade", "console:alice")
    await start_t0(app, "console:bea")
    await say(app, "pineapple", "console:bea")
    assert sorted(await escalations(app)) == [
        ("ROUTINE", ("safe_word_used",)),
        ("URGENT", ("duress_word",)),
    ]
    told = [(t, v) for t, v in clear_values(config.database.path) if any(w in v for w in TELLING)]
    assert told == []


async def test_reasons_written_before_sealing_are_sealed_when_the_app_opens(
    app: App, config: Config, clock: ManualClock, console: ConsoleChannel
) -> None:
    await enrol_console(app)
    await start_t0(app)
    await say(app, "2")
    await say(app, "1")  # URGENT
    async with app.db.transaction() as tx:  # as a database from before migration 9 holds it
        await tx.execute("UPDATE escalations SET reasons = '[\"duress_word\"]', reasons_enc = NULL")
    await app.close()
    reopened = await open_app(config, {"console": console}, clock=clock)
    try:
        row = await reopened.db.fetchone("SELECT code, reasons, reasons_enc FROM escalations")
        assert row is not None and row["reasons"] == ""
        assert open_reasons(reopened.ring, row["code"], row["reasons_enc"]) == ("duress_word",)
    finally:
        await reopened.close()
