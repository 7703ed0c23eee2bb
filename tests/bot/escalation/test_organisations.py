"""Alerts stay inside the programme's organisation: routes, ladder, fallback and digest, on
the real Telegram and Twilio clients; a worker of A cannot act on B's escalation."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import pytest
from telegram import Bot
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from bot.channels.base import Inbound
from bot.channels.console import ConsoleChannel
from bot.clock import ManualClock
from bot.config import Config
from bot.runtime.app import App, open_app
from bot.store.escalations import raise_escalation
from bot.store.scope import Scope
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.twilio_api import FakeTwilio

from .conftest import ANA_PHONE, ANA_TG, BEA_PHONE, BEA_TG, add_staff, last_code, monitor, say
from .support_organisations import B_ADDRESS, enrol_in, organisation_b
from .support_ptb_channel import PtbStaffChannel
from .support_twilio_channel import TwilioStaffChannel
from .test_staff_inbound import press, state_of

pytestmark = pytest.mark.filterwarnings(
    "ignore:BasicAuth is deprecated:DeprecationWarning",
    "ignore:The 'auth' parameter is deprecated:DeprecationWarning",
)
AMY_TG = "700003"
AMY_PHONE = "+447911777777"


@pytest.fixture(scope="module")
def fake_telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        yield fake


@pytest.fixture(scope="module")
def fake_twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio() as server:
        yield server


@pytest.fixture
async def oapp(
    config: Config,
    clock: ManualClock,
    console: ConsoleChannel,
    fake_telegram: FakeTelegram,
    fake_twilio: FakeTwilio,
) -> AsyncIterator[App]:
    fake_telegram.reset()
    fake_twilio.reset()
    for chat in (ANA_TG, BEA_TG, AMY_TG):
        fake_telegram.open_chat(int(chat))
    http = AsyncTwilioHttpClient()
    twilio = Client(fake_twilio.account_sid, fake_twilio.auth_token, http_client=http)
    twilio.api.base_url = fake_twilio.base_url
    async with Bot(fake_telegram.token, base_url=fake_telegram.base_url) as bot:
        channels = {"console": console, "telegram": PtbStaffChannel(bot),
                    "sms": TwilioStaffChannel(twilio)}  # fmt: skip
        app = await open_app(config, channels, clock=clock)  # type: ignore[arg-type]
        try:
            yield app
        finally:
            await app.close()
            await http.close()


async def two_organisations(app: App) -> tuple[int, int]:
    """A: ana (on call for demo) and amy, both WSS; B: bea, its only WSS. Returns B's
    (organisation, programme) ids."""
    org_b, programme_b = await organisation_b(app)
    ana = await add_staff(app, "ana", telegram_user_id=ANA_TG, phone=ANA_PHONE,
                          organisation_ids=[1])  # fmt: skip
    await add_staff(app, "amy", telegram_user_id=AMY_TG, phone=AMY_PHONE, organisation_ids=[1])
    await add_staff(app, "bea", telegram_user_id=BEA_TG, phone=BEA_PHONE,
                    organisation_ids=[org_b])  # fmt: skip
    demo = await app.service.programmes.by_name("demo", Scope.installation())
    assert demo is not None
    async with app.db.transaction() as tx:
        await app.staff.set_routes(tx, demo.id, [ana.id], [])
    return org_b, programme_b


async def urgent_in_b(app: App, programme_b: int) -> str:
    her = await enrol_in(app, programme_b, B_ADDRESS)
    await app.service.begin_contact(her.id, "T0")
    await app.dispatcher.drain_all()
    await say(app, "yes", B_ADDRESS)
    await say(app, "yes", B_ADDRESS)  # consent
    await say(app, "2", B_ADDRESS)
    await say(app, "1", B_ADDRESS)
    return await last_code(app)


async def run_for(app: App, clock: ManualClock, minutes: float) -> None:
    mon = monitor(app)
    end = clock.now() + timedelta(minutes=minutes)
    while clock.now() < end:
        clock.advance(timedelta(minutes=1))
        await mon.tick()
        await app.dispatcher.drain_all()


def reached(fake_telegram: FakeTelegram, fake_twilio: FakeTwilio, chat: str, phone: str) -> int:
    return len(fake_telegram.sent_texts(int(chat))) + len(fake_twilio.bodies_to(phone))


async def test_b_without_routes_falls_back_to_b_only_and_ladders_stay_inside(
    oapp: App, clock: ManualClock, fake_telegram: FakeTelegram, fake_twilio: FakeTwilio
) -> None:
    _, programme_b = await two_organisations(oapp)
    code = await urgent_in_b(oapp, programme_b)
    await run_for(oapp, clock, 45)  # repeats and past the backup step
    bea = fake_telegram.sent_texts(int(BEA_TG))
    assert bea and bea[0].startswith(f"URGENT alert {code}")
    assert fake_twilio.bodies_to(BEA_PHONE)[0].startswith(f"URGENT alert {code}")
    for chat, phone in ((ANA_TG, ANA_PHONE), (AMY_TG, AMY_PHONE)):
        assert reached(fake_telegram, fake_twilio, chat, phone) == 0, chat

    # B's route names ana (of A) as on call and amy as backup, as if set before a move:
    ids = {m.name: m.id for m in await oapp.staff.all()}
    async with oapp.db.transaction() as tx:
        await oapp.staff.set_routes(tx, programme_b, [ids["ana"], ids["bea"]], [ids["amy"]])
    await say(oapp, "stop", B_ADDRESS)  # she opts out: a ROUTINE alert, for the digest
    await run_for(oapp, clock, 26 * 60)
    for chat, phone in ((ANA_TG, ANA_PHONE), (AMY_TG, AMY_PHONE)):
        assert reached(fake_telegram, fake_twilio, chat, phone) == 0, chat
    rows = await oapp.db.fetchall(
        "SELECT DISTINCT s.name FROM escalation_notifications AS n JOIN staff AS s"
        " ON s.id = n.staff_id"
    )
    assert {r[0] for r in rows} == {"bea"}


async def test_a_digest_never_goes_to_a_member_moved_out(
    oapp: App, clock: ManualClock, fake_telegram: FakeTelegram, fake_twilio: FakeTwilio
) -> None:
    _, programme_b = await two_organisations(oapp)
    her = await enrol_in(oapp, programme_b, B_ADDRESS)
    async with oapp.db.transaction() as tx:
        await raise_escalation(
            tx, oapp.ring, level="ROUTINE", reasons=("contact_request",), now=clock.now(),
            participant_id=her.id, programme_id=programme_b, pseudonym=her.pseudonym,
            hooks=(oapp.notifier.hook,),
        )  # fmt: skip
    bea = await oapp.staff.by_name("bea")
    assert bea is not None
    async with oapp.db.transaction() as tx:  # bea moves to A before the digest hour
        await oapp.staff.set_organisations(tx, bea.id, [1])
    await run_for(oapp, clock, 26 * 60)
    assert reached(fake_telegram, fake_twilio, BEA_TG, BEA_PHONE) == 0


async def test_acknowledge_by_a_worker_of_a_on_bs_alert_is_refused_and_audited(
    oapp: App, clock: ManualClock, fake_telegram: FakeTelegram, fake_twilio: FakeTwilio
) -> None:
    _, programme_b = await two_organisations(oapp)
    code = await urgent_in_b(oapp, programme_b)
    await oapp.handle_inbound(press(ANA_TG, f"esc:ack:{code}", "u-ana-1"))
    await oapp.handle_inbound(Inbound("sms", ANA_PHONE, f"ACK {code}", provider_id="SM-ana-1"))
    await oapp.handle_inbound(press(AMY_TG, f"esc:resolve:{code}", "u-amy-1"))
    await oapp.dispatcher.drain_all()
    assert await state_of(oapp, code) == ("open", None, None)
    refused = await oapp.db.fetchall(
        "SELECT actor, detail FROM audit_log WHERE action = 'outside_scope' AND subject = ?",
        (code,),
    )
    assert sorted(r[0] for r in refused) == ["amy (telegram)", "ana (sms)", "ana (telegram)"]
    assert {r[1] for r in refused} == {"escalation"}
    # the same answer as an unknown code: nothing says the escalation exists
    assert fake_telegram.sent_texts(int(ANA_TG)) == [f"No open escalation {code}."]
    assert fake_twilio.bodies_to(ANA_PHONE) == [f"No open escalation {code}."]
    await oapp.handle_inbound(press(BEA_TG, f"esc:ack:{code}", "u-bea-1"))
    await oapp.dispatcher.drain_all()
    assert await state_of(oapp, code) == ("acknowledged", "bea", None)
