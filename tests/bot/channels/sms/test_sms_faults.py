"""Twilio failing (429, 500, a hung call, 20009) and the service killed: nothing lost, nothing twice."""

from __future__ import annotations

import time

from tests.fakes.twilio_api import FakeTwilio

from .support_sms import CONSENT_ASK, PHONE, SmsService


def creates_to(fake: FakeTwilio, phone: str = PHONE) -> list[int | None]:
    return [c.status for c in fake.calls if c.op == "create" and c.params.get("To") == phone]


def test_429_500_and_a_hang_are_retried_and_delivered_once(
    sms: SmsService, fake: FakeTwilio
) -> None:
    pseudonym = sms.enrol()
    sms.contact(pseudonym)
    fake.fail_next("create", 429)  # the opener: Twilio's 20429
    sms.start()
    sms.wait_for_text("Is now a good time")
    fake.fail_next("create", 500)  # the first message after "yes": the consent question
    sms.exchange("yes", CONSENT_ASK)
    sms.exchange("1", "Do you feel safe right now?")
    fake.hang_next("create", 3.0)  # longer than sms.request_timeout_seconds
    fake.fail_next("delete", 409, 20009, times=2)  # provider records not deletable yet
    sms.exchange("1", "pushed, slapped")
    texts = sms.received()
    # opener, consent, the first step (how-to, intro, first question: one SMS), the next question
    assert len(texts) == len(set(texts)) == 4
    assert texts[2].startswith("Reply SKIP") and texts[2].endswith("right now?\n1 Yes\n2 No")
    assert creates_to(fake) == [429, 201, 500, 201, 201, None, 201]  # None: hung, gave up
    assert sms.answers(pseudonym) == {"safe_now": "yes"}
    sms.wait_all_records_gone()
    assert [c.status for c in fake.calls if c.op == "delete"].count(409) == 2


def test_sigkill_mid_survey_resumes_at_the_same_question(sms: SmsService, fake: FakeTwilio) -> None:
    pseudonym = sms.enrol()
    sms.contact(pseudonym)
    sms.start()
    sms.wait_for_text("Is now a good time")
    sms.exchange("yes", CONSENT_ASK)
    sms.exchange("1", "Do you feel safe right now?")
    sms.exchange("1", "pushed, slapped")
    sms.exchange("never", "sexual things")
    sms.settled()  # a kill between Twilio's 201 and our commit would resend: by design
    sms.kill()

    # While it is down she answers; Twilio's webhook fails and she tries again later.
    fake.inbound(PHONE, "+15005550006", "never", url="https://followup.example.test/sms/inbound")
    sms.start()
    before = len(sms.received())
    sms.exchange("never", "insulted, humiliated")
    assert len(sms.received()) == before + 1
    fake.hang_next("create", 30.0)  # the next question hangs at "Twilio"...
    sms.say("1")
    time.sleep(0.3)
    sms.kill()  # ...and the service dies while waiting
    sms.start()
    sms.wait_for_text("controlled your money", before)
    sms.exchange("never", "followed you")

    texts = sms.received()
    assert len(texts) == len(set(texts)), "a message went out twice"
    assert sms.answers(pseudonym) == {
        "safe_now": "yes",
        "viol_physical": "never",
        "viol_sexual": "never",
        "viol_psychological": "never",
        "viol_controlling": "never",
    }
    # Callbacks lost while it was down: the sweep at start-up finds what is left.
    sms.wait_all_records_gone()
