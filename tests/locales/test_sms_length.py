"""Every SMS of every locale fits 3 segments (GSM-7 where the text allows, else UCS-2).

Run ``python -m tests.locales.support_sms_report`` for the per-locale table the README quotes.
"""

from __future__ import annotations

import pytest

from bot.channels.segments import measure, non_gsm7_characters
from tests.locales.support_locales import LANGUAGES, sms_messages, sms_parts, step_messages
from tests.locales.support_sms_report import worst

MAX_SEGMENTS = 3
#: Languages whose alphabet fits GSM-7 entirely: a UCS-2 message there is a typo
#: (a curly quote, a non-breaking space) that halves what fits.
GSM7_ONLY = ("en", "de", "it")


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_sms_fits_three_segments(language: str) -> None:
    messages = sms_messages(language)
    assert len(messages) > 80  # every item, every timepoint variant, every system line
    too_long = [
        (sms.what, measure(sms.text).encoding, measure(sms.text).segments)
        for sms in messages
        if measure(sms.text).segments > MAX_SEGMENTS
    ]
    row = worst(language)
    print(
        f"\n{language}: worst {row.what}: {row.encoding}, {row.units} units, {row.segments} segments"
    )
    assert too_long == [], f"{language}: over {MAX_SEGMENTS} segments: {too_long}"


@pytest.mark.parametrize("language", GSM7_ONLY)
def test_languages_that_fit_gsm7_never_fall_back_to_ucs2(language: str) -> None:
    ucs2 = {
        sms.what: non_gsm7_characters(sms.text)
        for sms in sms_messages(language)
        if measure(sms.text).encoding == "UCS-2"
    }
    assert ucs2 == {}


def test_english_source_keeps_the_two_segment_rule_of_the_survey_format() -> None:
    assert worst("en").segments <= 2


@pytest.mark.parametrize("language", LANGUAGES)
def test_gsm7_messages_stay_within_two_segments(language: str) -> None:
    """DESIGN §4: 2 GSM-7 segments where the language allows; only UCS-2 text may take 3."""
    long_gsm = [
        (sms.what, measure(sms.text).units)
        for sms in sms_messages(language)
        if measure(sms.text).encoding == "GSM-7" and measure(sms.text).segments > 2
    ]
    assert long_gsm == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_step_goes_as_sms_parts_within_the_same_budget(language: str) -> None:
    """A step's lines are one message (issue 17); where joined they are over the budget,
    the SMS channel cuts them into parts that keep the rules above."""
    assert len(step_messages()) > 40  # the walks met real steps, joined ones among them
    assert any(line.paragraph for _, message in step_messages() for line in message.lines)
    over = [
        (part.what, measure(part.text).encoding, measure(part.text).segments)
        for part in sms_parts(language)
        if measure(part.text).segments > (2 if measure(part.text).encoding == "GSM-7" else 3)
        and "\n" in part.text  # a single line over the budget is measured by the tests above
    ]
    assert over == []
