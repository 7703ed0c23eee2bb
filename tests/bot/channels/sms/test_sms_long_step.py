"""A step over the SMS budget goes as several SMS, in order, each within the budget, and
every part's provider record is deleted, at session end and on the safe word (issue 17).

The real service runs against FakeTwilio with a survey whose first step (how-to, intro,
question) is ~330 characters of GSM-7: three segments as one SMS, so it must be two.
"""

from __future__ import annotations

from pathlib import Path

from bot.channels.segments import measure
from tests.fakes.twilio_api import FakeTwilio

from .support_sms import CONSENT_ASK, SmsService, eventually

HOW_TO = "Reply SKIP to skip a question, BACK to go back, or LATER to stop for now."
INTRO = "Thank you for taking part. " * 8
QUESTION = "Do you feel safe right now?\n1 Yes\n2 No"
SURVEY = f"""
survey: long
version: 1
title: Long first step
periods: {{baseline: [T0, T1], followup: [T2, T3, T4]}}
items:
  - id: intro
    type: info
    text: "{INTRO.strip()}"
  - id: safe_now
    type: yesno
    text: Do you feel safe right now?
"""


def first_step(sms: SmsService, tmp_path: Path) -> list[str]:
    """Enrolled on the long survey, contacted, 'yes' at the gate and to the consent question:
    the SMS of the first step."""
    survey = tmp_path / "long.yaml"
    survey.write_text(SURVEY)
    with sms.config.open("a") as config:
        config.write(f'[survey]\nfile = "{survey}"\n')
    sms.contact(sms.enrol())
    sms.start()
    sms.wait_for_text("Is now a good time for a short chat?")
    sms.exchange("yes", CONSENT_ASK)
    sms.exchange("1", "Do you feel safe right now?")
    sms.settled()
    return sms.received()[2:]


def test_a_step_over_the_budget_goes_as_sms_in_order_each_within_two_segments(
    sms: SmsService, fake: FakeTwilio, tmp_path: Path
) -> None:
    texts = first_step(sms, tmp_path)
    assert measure("\n\n".join(texts)).segments == 3  # as one SMS it would be over budget
    assert texts == [f"{HOW_TO}\n\n{INTRO.strip()}", QUESTION]
    assert all(measure(t).encoding == "GSM-7" and measure(t).segments <= 2 for t in texts)

    sms.exchange("1", "that's all for now")  # the closing; the session ends
    sms.wait_all_records_gone()
    outbound = [m for m in fake.messages.values() if m["direction"] != "inbound"]
    assert len(outbound) == 5  # opener, consent question, two parts, closing
    assert fake.deleted == set(fake.messages)  # every part's record too
    refs = sms.query("SELECT direction, COUNT(*) FROM transcript GROUP BY direction")
    assert dict(refs) == {"in": 3, "out": 5}


def test_the_safe_word_after_a_split_step_deletes_every_part(
    sms: SmsService, fake: FakeTwilio, tmp_path: Path
) -> None:
    texts = first_step(sms, tmp_path)
    assert len(texts) == 2
    sms.say("pineapple")
    eventually(
        lambda: any("Have a nice day" in t for t in sms.received()), what="the neutral decoy"
    )
    sms.wait_all_records_gone()
    assert fake.deleted == set(fake.messages)
    assert len(sms.query("SELECT 1 FROM transcript WHERE direction = 'out'")) == 5
