"""Two organisations on one installation: A ('default', programme 'demo') and B ('bravo')."""

from __future__ import annotations

from datetime import date

from bot.enrolment.rules import enrol
from bot.runtime.app import App
from bot.store.consent import Consent
from bot.store.participants import Participant
from tests.bot.conftest import add_programme

B_ORG = "bravo"
B_PROGRAMME = "bravo-prog"
B_ADDRESS = "console:bella"


async def organisation_b(app: App) -> tuple[int, int]:
    """Organisation B and its programme; returns (organisation id, programme id)."""
    await add_programme(app)  # A's 'demo', in 'default', made while it is the only one
    async with app.db.transaction() as tx:
        org = await app.stores.organisations.add(tx, B_ORG, "en", app.stores.clock.now())
        programme_id = await app.service.programmes.add(
            tx, B_PROGRAMME, app.stores.clock.now(), timezone="Europe/London",
            helpline="Helpline 0800 000 0000", emergency_number="999", organisation_id=org.id,
        )  # fmt: skip
    return org.id, programme_id


async def enrol_in(app: App, programme_id: int, address: str) -> Participant:
    return await enrol(
        app.stores, app.config, app.service.survey, programme_id=programme_id,
        channel="console", language="en", timezone="Europe/London", today=date(2026, 11, 24),
        now=app.service.clock.now(), consent=Consent("v1", date(2026, 11, 20), "Test Worker"),
        address=address, safe_word="pineapple",
    )  # fmt: skip
