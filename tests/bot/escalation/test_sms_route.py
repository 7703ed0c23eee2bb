"""The SMS route end to end on the real twilio client and the fake Twilio REST API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import pytest
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from bot.channels.base import Inbound
from bot.channels.console import ConsoleChannel
from bot.clock import ManualClock
from bot.config import Config
from bot.runtime.app import open_app
from tests.fakes.twilio_api import FakeTwilio

from .conftest import ANA_PHONE, RecordingChannel, monitor, on_call_team, raise_urgent
from .support_twilio_channel import TwilioStaffChannel

pytestmark = pytest.mark.filterwarnings(
    "ignore:BasicAuth is deprecated:DeprecationWarning",
    "ignore:The 'auth' parameter is deprecated:DeprecationWarning",
)


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio() as server:
        yield server


@pytest.fixture
async def client(fake: FakeTwilio) -> AsyncIterator[Client]:
    fake.reset()
    http = AsyncTwilioHttpClient()
    client = Client(fake.account_sid, fake.auth_token, http_client=http)
    client.api.base_url = fake.base_url
    try:
        yield client
    finally:
        await http.close()


async def test_sms_alert_ack_reply_and_a_503_spell(
    config: Config,
    clock: ManualClock,
    console: ConsoleChannel,
    telegram: RecordingChannel,
    fake: FakeTwilio,
    client: Client,
) -> None:
    channels = {"console": console, "telegram": telegram, "sms": TwilioStaffChannel(client)}
    app = await open_app(config, channels, clock=clock)  # type: ignore[dict-item]
    try:
        await on_call_team(app)
        fake.fail_next("create", 503, times=3)
        code = await raise_urgent(app)
        for _ in range(20):
            clock.advance(timedelta(seconds=15))
            await monitor(app).tick()
            await app.dispatcher.drain_all()
        bodies = fake.bodies_to(ANA_PHONE)
        assert len(bodies) == 1 and bodies[0].startswith(f"URGENT alert {code}")
        assert bodies[0].endswith(f"Reply ACK {code} or DONE {code}")
        assert len(telegram.sent) == 1  # Telegram went out at once, not held by the SMS trouble

        await app.handle_inbound(Inbound("sms", ANA_PHONE, f"ACK {code}", provider_id="SM1"))
        await app.dispatcher.drain_all()
        assert fake.bodies_to(ANA_PHONE)[-1] == f"{code} acknowledged by ana."
        clock.advance(timedelta(minutes=30))
        await monitor(app).tick()
        await app.dispatcher.drain_all()
        assert len(fake.bodies_to(ANA_PHONE)) == 2  # no repeats after the ack
    finally:
        await app.close()
