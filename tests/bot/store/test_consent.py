"""No consent, no contact: enrolment refuses, and the service never opens a contact."""

from __future__ import annotations

from datetime import date

import pytest

from bot.channels.console import ConsoleChannel
from bot.enrolment.rules import EnrolmentError, enrol
from bot.runtime.app import App
from bot.store.consent import Consent, consent_of
from bot.store.participants import NewParticipant
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
