"""Gate, code word, SKIP, BACK, LATER, safe word and duress word over SMS, as in the console.

Four women in one service process, each on her own number.
"""

from __future__ import annotations

import time

from tests.fakes.twilio_api import FakeTwilio

from .support_sms import CONSENT_ASK, SmsService

ANNA, BEA, CARO, DORA = "+447400100001", "+447400100002", "+447400100003", "+447400100004"


def test_commands_and_secret_words_over_sms(sms: SmsService, fake: FakeTwilio) -> None:
    anna = sms.enrol(ANNA)
    bea = sms.enrol(BEA)
    caro = sms.enrol(CARO, "--duress-word", "marmalade")
    dora = sms.enrol(DORA, "--code-word", "bluebird")
    for pseudonym in (anna, bea, caro, dora):
        sms.contact(pseudonym)
    sms.start()
    for phone in (ANNA, BEA, CARO, DORA):
        sms.wait_for_text("Is now a good time", phone=phone)

    # Anna: "not now" snoozes; later SKIP, BACK, LATER and coming back.
    sms.exchange("2", "When would suit you better?", ANNA)
    sms.exchange("tomorrow", "Thanks. Talk again on", ANNA)
    sms.exchange("hello", "Is now a good time", ANNA)
    sms.exchange("yes", CONSENT_ASK, ANNA)
    sms.exchange("1", "Do you feel safe right now?", ANNA)
    first_step = sms.received(ANNA)[-1]  # the how-to line comes with the first question
    assert first_step.startswith(
        "Reply SKIP to skip a question, BACK to go back, or LATER to stop for now.\n\n"
    )
    sms.exchange("back", "This is the first question.", ANNA)
    sms.exchange("skip", "pushed, slapped", ANNA)
    sms.exchange("BACK", "Do you feel safe right now?", ANNA)
    sms.exchange(
        "maybe", "Sorry, I didn't get that. Please reply with a number from the list.", ANNA
    )
    sms.exchange("1", "pushed, slapped", ANNA)
    sms.exchange("later", "we'll stop here for now", ANNA)
    sms.exchange("hi", "carry on where we left off", ANNA)
    sms.exchange("1", "pushed, slapped", ANNA)
    assert sms.answers(anna) == {"safe_now": "yes"}

    # Bea: the safe word, mid-survey: one neutral line, then nothing.
    sms.exchange("yes", CONSENT_ASK, BEA)
    sms.exchange("1", "Do you feel safe right now?", BEA)
    sms.exchange("the PINEAPPLE!", "OK, thanks. Have a nice day!", BEA)
    got = len(sms.received(BEA))
    sms.say("1", BEA)
    time.sleep(0.5)
    assert len(sms.received(BEA)) == got
    assert sms.status(bea) == "paused"

    # Caro: the duress word looks like an ordinary end and raises URGENT.
    sms.exchange("yes", CONSENT_ASK, CARO)
    sms.exchange("1", "Do you feel safe right now?", CARO)
    sms.exchange("marmalade", "Thank you, that's all for now. Take care.", CARO)

    # Dora: three wrong code words lock the session; the line she sees is neutral.
    sms.exchange("yes", "Please type your code word.", DORA)
    sms.exchange("sunflower", "That's not it. Please try again.", DORA)
    sms.exchange("daisy", "That's not it. Please try again.", DORA)
    sms.exchange("tulip", "Sorry, we can't go on right now. Bye for now.", DORA)
    assert sms.status(dora) == "paused"
    assert not any("safe" in text for text in sms.received(DORA))

    raised = {(name, level, reasons) for _, name, level, reasons in sms.escalations()}
    assert (bea, "ROUTINE", ("safe_word_used",)) in raised
    assert (caro, "URGENT", ("duress_word",)) in raised
    assert any(who == dora for who, _, _ in raised)
    assert not any(who == anna for who, _, _ in raised)
    sms.wait_all_records_gone()
