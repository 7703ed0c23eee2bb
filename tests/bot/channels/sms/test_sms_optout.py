"""Carrier keywords and 21610 with the real service: STOP ends everything, START re-activates nothing."""

from __future__ import annotations

import json
import time

from tests.bot.channels.conftest import BOTH
from tests.fakes.twilio_api import FakeTwilio

from .support_sms import CONSENT_ASK, PHONE, SmsService, eventually

OTHER = "+447400123456"


def quiet_for(sms: SmsService, seconds: float = 0.6, phone: str = PHONE) -> list[str]:
    """What she got, after making sure nothing more arrives for a moment."""
    before = list(sms.received(phone))
    time.sleep(seconds)
    assert sms.received(phone) == before, "a message was sent after all"
    return before


def escalations(sms: SmsService) -> list[tuple[str, str]]:
    """(level, reasons as the JSON list they were before sealing) of every escalation."""
    return [(level, json.dumps(list(reasons))) for _, _, level, reasons in sms.escalations()]


@BOTH
def test_stop_mid_survey_then_start_sends_nothing(sms: SmsService, fake: FakeTwilio) -> None:
    pseudonym = sms.enrol()
    sms.contact(pseudonym)
    sms.start()
    sms.wait_for_text("Is now a good time")
    sms.exchange("yes", CONSENT_ASK)
    sms.exchange("1", "Do you feel safe right now?")
    sms.exchange("1", "pushed, slapped")
    sent = len(sms.received())
    sms.say("Stop")
    assert len(quiet_for(sms)) == sent
    assert sms.status(pseudonym) == "opted_out"
    assert escalations(sms) == [("ROUTINE", '["opted_out"]')]
    assert sms.session_ends() == [("ended", "opted_out")]
    assert sms.answers(pseudonym) == {"safe_now": "yes"}  # what she gave is kept

    for text in ("START", "unstop", "yes", "1", "hello"):
        sms.say(text)
    assert len(quiet_for(sms)) == sent
    assert sms.status(pseudonym) == "opted_out"
    assert sms.query("SELECT opted_in_again_at IS NOT NULL FROM participants") == [(1,)]
    assert escalations(sms) == [("ROUTINE", '["opted_out"]')]
    assert sms.answers(pseudonym) == {"safe_now": "yes"}
    # Her STOP/START texts are deleted from the provider's log like every other message.
    sms.wait_all_records_gone()


@BOTH
def test_21610_on_send_is_a_stop(sms: SmsService, fake: FakeTwilio) -> None:
    first = sms.enrol(PHONE)
    second = sms.enrol(OTHER)
    fake.opt_out(PHONE)  # she texted STOP and only Twilio saw it
    sms.contact(first)
    sms.contact(second)
    sms.start()
    sms.wait_for_text("Is now a good time", phone=OTHER)
    eventually(lambda: sms.status(first) == "opted_out", what="21610 marks her opted out")
    assert sms.received(PHONE) == []
    assert escalations(sms) == [("ROUTINE", '["opted_out"]')]
    assert sms.session_ends(first) == [("ended", "opted_out")]
    assert sms.query("SELECT state FROM outbox WHERE participant_id = "
                     "(SELECT id FROM participants WHERE pseudonym = ?)", first) == [("failed",)]  # fmt: skip
    creates = [c for c in fake.calls if c.op == "create" and c.params.get("To") == PHONE]
    assert [c.status for c in creates] == [400]  # tried once, never again

    fake.opt_in(PHONE)
    sms.say("yes", PHONE)  # a stray reply re-activates nothing
    quiet_for(sms)
    assert sms.received(PHONE) == [] and sms.status(first) == "opted_out"
    assert sms.status(second) == "active"
