"""SQLite busy/locked on the SMS path: another process holds the write lock while she texts.

A short lock is waited out and she notices nothing. A lock that outlasts every retry gets
an empty 503 (never 200: nothing was stored), and Twilio's redelivery of the same request
goes through exactly once.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.channels.sms_web import EMPTY_TWIML
from tests.bot.channels.support_webhook_rig import PHONE, Rig, open_rig
from tests.bot.support_busy import FAST, LockHolder
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.twilio_api import FakeTwilio
from tests.fakes.twilio_resources import new_sid

from .support_sms import CONSENT_ASK, SmsService
from .test_sms_webhooks import form

INBOUND = "/sms/inbound"
STATUS = "/sms/status"


@pytest.fixture(scope="module")
def telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        yield fake


@pytest.fixture
def rig(tmp_path: Path, fake: FakeTwilio, telegram: FakeTelegram) -> Iterator[Rig]:
    with open_rig(tmp_path, fake, telegram) as made:
        made.run(made.app.db.set_busy(FAST))
        yield made


def her_rows(rig: Rig) -> tuple[int, int]:
    """(inbound messages seen, messages queued for her)."""
    seen = int(rig.scalar("SELECT COUNT(*) FROM inbound_seen"))
    queued = int(
        rig.scalar(
            "SELECT COUNT(*) FROM outbox WHERE participant_id = ? AND kind = 'message'",
            rig.her_id,
        )
    )
    return seen, queued


def test_a_lock_past_every_retry_gets_503_and_the_redelivery_is_stored_once(rig: Rig) -> None:
    request = form("1")
    before = her_rows(rig)
    with LockHolder(rig.db_path):
        refused = rig.signed_form(INBOUND, request)
    assert (refused.status_code, refused.content) == (503, b"")
    assert her_rows(rig) == before  # nothing stored: no 200 may claim otherwise

    delivered = rig.signed_form(INBOUND, request)  # Twilio's retry (#rp=5xx), same MessageSid
    assert delivered.status_code == 200 and delivered.text.endswith("<Response/>")
    after = her_rows(rig)
    assert after[0] == before[0] + 1 and after[1] > before[1]  # seen once; she is answered
    again = rig.signed_form(INBOUND, request)  # delivered twice: de-duplicated
    assert again.status_code == 200 and her_rows(rig) == after


def test_a_short_lock_is_waited_out(rig: Rig) -> None:
    before = her_rows(rig)
    with LockHolder(rig.db_path) as holder:
        holder.release_after(0.1)  # past busy_timeout (60 ms): a retry gets through
        answer = rig.signed_form(INBOUND, form("1"))
    assert answer.status_code == 200 and answer.text.endswith("<Response/>")
    assert her_rows(rig)[0] == before[0] + 1


def test_a_status_callback_that_cannot_be_stored_gets_200_and_stores_nothing(rig: Rig) -> None:
    """Twilio does not retry status callbacks, and a 5xx leaves a debugger alert holding her
    number: 200, and the provider-log sweep deletes the record instead."""
    sid = new_sid("SM")
    callback = {"MessageSid": sid, "MessageStatus": "delivered"}
    deletions = "SELECT COUNT(*) FROM outbox WHERE kind = 'provider_delete'"
    before = int(rig.scalar(deletions))
    with LockHolder(rig.db_path):
        answered = rig.signed_form(STATUS, callback)
    assert (answered.status_code, answered.text) == (200, EMPTY_TWIML)
    assert int(rig.scalar(deletions)) == before
    assert rig.signed_form(STATUS, callback).status_code == 200
    assert int(rig.scalar(deletions)) == before + 1


def test_the_real_service_waits_out_another_process_and_she_notices_nothing(
    sms: SmsService, fake: FakeTwilio
) -> None:
    pseudonym = sms.enrol(PHONE)
    sms.contact(pseudonym)
    sms.start()
    sms.wait_for_text("Is now a good time for a short chat?")
    sms.exchange("1", CONSENT_ASK)
    sms.exchange("1", "Do you feel safe right now?")
    with LockHolder(sms.db_path) as holder:
        holder.release_after(1.0)
        started = time.monotonic()
        sms.exchange("1", "pushed, slapped, hit or kicked")  # asserts 200 + empty TwiML
        assert time.monotonic() - started >= 0.9  # it did wait for the other process
    assert sms.answers(pseudonym) == {"safe_now": "yes"}
    texts = sms.received()
    assert len(set(texts)) == len(texts) and "pushed, slapped" in texts[-1]  # nothing twice
