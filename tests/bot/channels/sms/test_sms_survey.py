"""A whole T0 survey over SMS with the real service process and FakeTwilio.

Enrol -> T0 opener -> every question answered by digits (one run) or words (another) ->
closing; every provider record of the session deleted afterwards, answers in the database
(decrypted with the key file), and her number nowhere in the database files in clear.
"""

from __future__ import annotations

import pytest

from tests.bot.channels.conftest import BOTH
from tests.fakes.twilio_api import FakeTwilio

from .support_sms import PHONE, SmsService, eventually

#: (reply by digits, reply by words, a phrase of the message that must follow).
SCRIPT: list[tuple[str, str, str]] = [
    ("1", "yes", "Please type your code word."),
    ("bluebird", "Bluebird", "Is it still OK to ask you a few questions?"),
    ("1", "Yes", "Do you feel safe right now?"),
    ("1", "yes", "pushed, slapped, hit or kicked"),
    ("1", "Never", "sexual things"),
    ("1", "never", "insulted, humiliated"),
    ("1", "NEVER", "controlled your money"),
    ("1", "never", "followed you, watched you"),
    ("1", "never", "choked or strangled"),
    ("2", "No", "threatened to kill"),
    ("2", "no", "used a weapon"),
    ("2", "no", "caused you any of these"),
    ("1 3", "Fear, Anxiety or feeling on edge", "were the police called"),
    ("2", "no", "how afraid of him"),
    ("3", "3", "seriously hurt or kill you"),
    ("2", "no", "how safe do you feel"),
    ("7", "7", "Feeling nervous, anxious or on edge"),
    ("1", "not at all", "Not being able to stop or control worrying"),
    ("2", "several days", "Little interest or pleasure"),
    ("1", "Not at all", "Feeling down, depressed, or hopeless"),
    ("1", "not at all", "Do you have children"),
    ("1", "yes", "did the children see or hear"),
    ("1", "never", "very upset, afraid or angry"),
    ("2", "no", "has he hurt any of the children"),
    ("2", "no", "child protection or social services"),
    ("1", "no", "What do you hope will change"),
    ("1 2", "The violence stops, I feel safe", "support service to get in touch"),
    ("2", "no", "that's all for now"),
]
EXPECTED = {
    "safe_now": "yes",
    "viol_physical": "never",
    "viol_sexual": "never",
    "viol_psychological": "never",
    "viol_controlling": "never",
    "viol_stalking": "never",
    "risk_strangulation": "no",
    "risk_threat_kill": "no",
    "risk_weapon": "no",
    "impact": ["afraid", "anxious"],
    "police_called": "no",
    "fear": 3,
    "fear_for_life": "no",
    "feel_safe": 7,
    "phq4_1": "not_at_all",
    "phq4_2": "several_days",
    "phq4_3": "not_at_all",
    "phq4_4": "not_at_all",
    "children": "yes",
    "children_witnessed": "never",
    "children_upset": "no",
    "children_harmed": "no",
    "child_protection": "no",
    "hopes": ["violence_stops", "feel_safe"],
    "wants_contact": "no",
}


@BOTH
@pytest.mark.parametrize("by", ["digits", "words"])
def test_whole_survey_then_provider_records_deleted(
    sms: SmsService, fake: FakeTwilio, by: str
) -> None:
    pseudonym = sms.enrol(PHONE, "--code-word", "bluebird")
    sms.contact(pseudonym)
    sms.start()
    sms.wait_for_text("Is now a good time for a short chat?")
    opener = sms.received()[0]
    assert opener == "Hi, it's Sam. Is now a good time for a short chat?\n1 Yes\n2 Not now"
    for digits, words, expect in SCRIPT:
        sms.exchange(digits if by == "digits" else words, expect)

    assert sms.answers(pseudonym) == EXPECTED
    texts = sms.received()
    assert "Reply SKIP to skip a question" in "\n".join(texts)

    def all_gone() -> bool:
        return not fake.existing_sids() and not sms.query(
            "SELECT 1 FROM transcript WHERE deleted_at IS NULL"
        )

    eventually(all_gone, what="every provider record of the session deleted")
    inbound = [m for m in fake.messages.values() if m["direction"] == "inbound"]
    outbound = [m for m in fake.messages.values() if m["direction"] != "inbound"]
    assert len(inbound) == len(SCRIPT) and len(outbound) == len(texts)
    assert fake.deleted == set(fake.messages)
    transcript = sms.query("SELECT direction, COUNT(*) FROM transcript GROUP BY direction")
    assert dict(transcript) == {"in": len(inbound), "out": len(outbound)}
    callbacks = {c.params["MessageStatus"] for c in fake.status_callbacks if c.status == 200}
    assert "delivered" in callbacks
    assert all(c.url == "https://followup.example.test/sms/status" for c in fake.status_callbacks)

    sms.stop()
    stored = sms.stored_bytes()
    assert len(stored) > 10_000
    for secret in (PHONE, PHONE[1:], PHONE[3:], "pineapple", "bluebird"):
        assert secret.encode() not in stored, f"{secret!r} in the database files"
    assert "Traceback" not in sms.output(), sms.output()[-4000:]
    assert PHONE[3:] not in sms.output()
