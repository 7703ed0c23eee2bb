"""SmsChannel in-process against FakeTwilio: what each Twilio answer becomes for the dispatcher."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator

import pytest

from bot.channels.base import PermanentError, Rendered, TransientError, UnreachableError
from bot.channels.sms import SmsChannel
from bot.config import SmsConfig
from tests.fakes.twilio_api import FakeTwilio

from .support_sms import OUR_NUMBER, PHONE, PUBLIC_URL

HELLO = Rendered("Hi, it's Sam. Is now a good time for a short chat?\n1 Yes\n2 Not now")


def settings(fake: FakeTwilio, **changes: object) -> SmsConfig:
    base = SmsConfig(
        account_sid=fake.account_sid,
        auth_token=fake.auth_token,
        from_number=OUR_NUMBER,
        api_base_url=fake.base_url,
        public_url=PUBLIC_URL,
        request_timeout_seconds=0.5,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture
async def channel(fake: FakeTwilio) -> AsyncIterator[SmsChannel]:
    sms = SmsChannel(settings(fake))
    yield sms
    await sms.close()


pytestmark = pytest.mark.filterwarnings(
    "ignore:BasicAuth is deprecated:DeprecationWarning",
    "ignore:The 'auth' parameter is deprecated:DeprecationWarning",
)


async def test_send_sets_status_callback_and_sender(fake: FakeTwilio, channel: SmsChannel) -> None:
    sid = await channel.send(PHONE, HELLO)
    create = next(c for c in fake.calls if c.op == "create")
    assert create.params["StatusCallback"] == "https://followup.example.test/sms/status"
    assert create.params["From"] == OUR_NUMBER and "MessagingServiceSid" not in create.params
    assert fake.bodies_to(PHONE) == [HELLO.text]
    assert sid in fake.messages


async def test_messaging_service_is_used_when_configured(fake: FakeTwilio) -> None:
    service_sid = "MG" + "a" * 32
    sms = SmsChannel(settings(fake, messaging_service_sid=service_sid))
    try:
        await sms.send(PHONE, HELLO)
    finally:
        await sms.close()
    create = next(c for c in fake.calls if c.op == "create")
    assert create.params["MessagingServiceSid"] == service_sid and "From" not in create.params


@pytest.mark.parametrize(
    ("status", "code", "expected", "reason"),
    [
        (400, 21610, UnreachableError, "opted_out"),
        (400, 21211, UnreachableError, "invalid_number"),
        (429, 20429, TransientError, None),
        (500, 20500, TransientError, None),
        (503, 20503, TransientError, None),
        (400, 21602, PermanentError, None),
        (401, 20003, PermanentError, None),
    ],
)
async def test_errors_map_to_what_the_dispatcher_does(
    fake: FakeTwilio,
    channel: SmsChannel,
    caplog: pytest.LogCaptureFixture,
    status: int,
    code: int,
    expected: type[Exception],
    reason: str | None,
) -> None:
    fake.fail_next("create", status, code, message=f"The 'To' number {PHONE} is bad")
    with caplog.at_level(logging.DEBUG), pytest.raises(expected) as raised:
        await channel.send(PHONE, HELLO)
    assert getattr(raised.value, "reason", None) == reason
    assert PHONE not in str(raised.value) and PHONE[3:] not in caplog.text
    assert fake.bodies_to(PHONE) == []


async def test_real_opt_out_is_21610(fake: FakeTwilio, channel: SmsChannel) -> None:
    fake.opt_out(PHONE)
    with pytest.raises(UnreachableError) as raised:
        await channel.send(PHONE, HELLO)
    assert raised.value.reason == "opted_out"


async def test_hang_and_refused_connection_are_transient(
    fake: FakeTwilio, channel: SmsChannel
) -> None:
    fake.hang_next("create", 3.0)
    with pytest.raises(TransientError):
        await channel.send(PHONE, HELLO)
    fake.refuse_connections()
    try:
        with pytest.raises(TransientError):
            await channel.send(PHONE, HELLO)
    finally:
        fake.refuse_connections(False)
    await channel.send(PHONE, HELLO)
    assert fake.bodies_to(PHONE) == [HELLO.text]  # the hung call never reached "Twilio"


async def test_delete_returns_only_records_actually_gone(
    fake: FakeTwilio, channel: SmsChannel
) -> None:
    fake.auto_deliver = False
    first = await channel.send(PHONE, HELLO)
    second = await channel.send(PHONE, HELLO)
    fake.advance(first, "delivered")
    gone = await channel.delete(PHONE, [first, second])
    assert gone == {first}  # the second is still "queued": Twilio answers 20009 (409)
    assert fake.existing_sids() == [second]
    assert await channel.delete(PHONE, [first]) == {first}  # already gone (404) counts
    fake.advance(second, "undelivered")
    fake.fail_next("delete", 409, 20009)
    assert await channel.delete(PHONE, [second]) == set()
    assert await channel.delete(PHONE, [second]) == {second}
    fake.fail_next("delete", 500)
    with pytest.raises(TransientError):
        await channel.delete(PHONE, [first])
