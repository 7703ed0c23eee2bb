"""Twilio unreachable for five simulated minutes (connection refused), then answering garbage
(HTML from a proxy, JSON cut off): the opener waits with a growing back-off, is sent exactly
once when Twilio is back, and the dispatcher never falls over."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bot.channels.sms import SmsChannel
from bot.clock import ManualClock
from bot.config import Config
from bot.runtime.app import App, open_app
from tests.fakes.twilio_api import FakeTwilio

from ..support_outage import RECOVERY_MINUTES, opener_row, partner, ride_out
from .support_sms import PHONE
from .test_sms_channel import settings

pytestmark = pytest.mark.filterwarnings(
    "ignore:BasicAuth is deprecated:DeprecationWarning",
    "ignore:The 'auth' parameter is deprecated:DeprecationWarning",
)


@pytest.fixture
async def app(config: Config, fake: FakeTwilio) -> AsyncIterator[App]:
    # The rate limiter runs on real time; a generous per-number gap lets simulated minutes pass.
    sms = settings(fake, max_per_number_per_second=1000.0, max_per_second=1000.0)
    clock = ManualClock(datetime.now(UTC))
    opened = await open_app(dataclasses.replace(config, sms=sms), {"sms": SmsChannel(sms)},
                            clock=clock)  # fmt: skip
    yield opened
    await opened.close()


def creates(fake: FakeTwilio) -> list[int | None]:
    return [c.status for c in fake.calls if c.op == "create"]


async def test_refused_for_five_minutes_then_garbage_the_opener_goes_once(
    app: App, fake: FakeTwilio
) -> None:
    her = await partner(app, "sms", PHONE)
    fake.refuse_connections()
    try:
        await app.service.begin_contact(her, "T0")
        await ride_out(app, "sms", minutes=5)
        state, attempts = await opener_row(app)
        assert state == "pending" and 5 <= attempts <= 12, attempts  # backing off
    finally:
        fake.refuse_connections(False)
    assert fake.calls == []

    fake.malformed_next("create")
    fake.malformed_next("create", truncated=True)
    await ride_out(app, "sms", minutes=RECOVERY_MINUTES, until=lambda: fake.bodies_to(PHONE))
    [opener] = fake.bodies_to(PHONE)
    assert opener.startswith("Hi, it's Sam.")
    assert creates(fake) == [201, 201, 201]  # two garbage answers, then the real one
    assert (await opener_row(app))[0] == "sent"
    refs = await app.service.transcript.undeleted(her)
    assert [r.ref for r in refs] == fake.existing_sids(PHONE)
