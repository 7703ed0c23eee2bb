"""`followup enrol --channel sms` and `followup run` configuration errors, as an operator meets them."""

from __future__ import annotations

import json

from tests.fakes.twilio_api import FakeTwilio

from .support_sms import PHONE, SmsService

CONSENT = ["--consent-version", "v1", "--consent-date", "2026-01-01", "--consent-by", "Test"]

#: (arguments, what the one line must say); nothing may be stored for any of them.
REFUSED: list[tuple[list[str], str]] = [
    (["--phone", "12345"], "is not a valid number for region GB"),
    (["--phone", "call me"], "--phone: not a phone number"),
    (["--phone", "+44 7911 123456"], "this number is already enrolled"),
    (["--phone", "07400 123456", "--safe-word", "STOP"], "carrier keyword"),
    (["--phone", "07400 123456", "--safe-word", "2468"], "not be a number"),
    (["--phone", "07400 123456", "--safe-word", "never"], "reply or carrier keyword"),
    ([], "--phone is required for --channel sms"),
]


def test_bad_sms_enrolment_is_one_line_and_stores_nothing(sms: SmsService) -> None:
    sms.enrol(PHONE)  # the programme and one participant
    before = sms.counts()
    for args, message in REFUSED:
        result = sms.cli("enrol", "--programme", "leeds", "--channel", "sms", *CONSENT, *args)
        assert result.returncode == 2, (args, result.stdout)
        assert message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
        assert sms.counts() == before, args
    out = sms.ok(
        "enrol", "--programme", "leeds", "--channel", "sms", "--phone", "07400 123456", "--json",
        "--safe-word", "pineapple", *CONSENT,
    )  # fmt: skip
    result = json.loads(out)
    assert set(result) == {"participant", "channel"} and result["channel"] == "sms"
    assert result["participant"].startswith("P-")
    assert b"7400123456" not in sms.stored_bytes()


def test_run_names_the_missing_sms_key(sms: SmsService, fake: FakeTwilio) -> None:
    text = sms.config.read_text().replace('from_number = "+15005550006"\n', "")
    sms.config.write_text(text)
    result = sms.cli("run")
    assert result.returncode == 2
    assert "sms.from_number" in result.stderr and "messaging_service_sid" in result.stderr
    assert "Traceback" not in result.stderr
