"""Safe word and a blocked bot, end to end with the real service process."""

from __future__ import annotations

import time

from tests.fakes.telegram_api import FakeTelegram

from .conftest import BOTH
from .support_telegram import SAFE_WORD, Service, next_bot_message, press
from .support_telegram_script import DECOY, run_plan

CHAT = 5550123987


def started(service: Service, fake: FakeTelegram) -> dict[str, str]:
    enrolled = service.enrol()
    service.start()
    fake.user_sends(CHAT, f"/start {enrolled['token']}")
    return enrolled


@BOTH
def test_safe_word_mid_survey_clears_the_chat_within_a_second(
    service: Service, fake: FakeTelegram
) -> None:
    enrolled = started(service, fake)
    opener = next_bot_message(fake, CHAT, 0)
    run_plan(fake, CHAT, opener, until="viol_physical")
    fake.wait_for(lambda f: any("sexual things" in t for t in f.sent_texts(CHAT)))
    service.wait_quiet()
    assert len(fake.visible(CHAT)) >= 5  # /start, opener, first step, two questions
    sent_before = len(fake.sent_texts(CHAT))

    said = time.monotonic()
    fake.user_sends(CHAT, f"ok {SAFE_WORD.upper()}!")

    def cleared(f: FakeTelegram) -> bool:
        return [m.get("text") for m in f.visible(CHAT)] in ([], [DECOY])

    fake.wait_for(cleared, timeout=3)
    took = time.monotonic() - said
    assert took < 1.0, f"deletion took {took:.2f}s"

    fake.user_sends(CHAT, "yes")  # nothing re-activates her
    time.sleep(0.8)
    service.wait_quiet()
    after = fake.sent_texts(CHAT)[sent_before:]
    assert after in ([], [DECOY])
    fake.wait_for(cleared)  # her stray "yes" does not stay either
    assert service.status(enrolled["participant"]) == "paused"
    reasons = [reasons for _, _, _, reasons in service.escalations()]
    assert ("safe_word_used",) in reasons
    assert service.stop() == 0


def test_blocked_bot_marks_her_unreachable_once_with_a_routine_escalation(
    service: Service, fake: FakeTelegram
) -> None:
    enrolled = started(service, fake)
    opener = next_bot_message(fake, CHAT, 0)
    service.wait_quiet()
    fake.block_chat(CHAT)
    press(fake, CHAT, opener, "_gate|yes")
    deadline = time.monotonic() + 10
    while service.status(enrolled["participant"]) != "unreachable":
        assert time.monotonic() < deadline, service.log_text()
        time.sleep(0.05)
    fake.user_sends(CHAT, "hello?")  # she cannot be written to; nothing more is tried
    time.sleep(0.5)
    service.wait_quiet()
    rows = service.escalations()
    assert [(level, reasons) for _, _, level, reasons in rows] == [
        ("ROUTINE", ("unreachable", "blocked"))
    ]
    assert len([c for c in fake.calls_to("sendMessage") if c.status == 403]) == 1
    fake.wait_for(lambda f: f.visible(CHAT) == [])  # what could be deleted was
    assert "Traceback" not in service.log_text()
    assert service.stop() == 0


def _message_id(fake: FakeTelegram, update_id: int) -> int:
    return int(fake._update_log[update_id]["message"]["message_id"])


def test_an_edit_into_the_safe_word_ends_the_session(service: Service, fake: FakeTelegram) -> None:
    """Telegram delivers edits only if asked (allowed_updates): the bot asks, and an edit
    is checked for the safe word like any message (DESIGN.md §1.1)."""
    enrolled = started(service, fake)
    next_bot_message(fake, CHAT, 0)
    service.wait_quiet()
    update_id = fake.user_sends(CHAT, "hmm")
    fake.wait_for(lambda f: len(f.sent_texts(CHAT)) >= 2)  # asked again, politely
    service.wait_quiet()
    fake.user_edits(CHAT, _message_id(fake, update_id), "PINE APPLE")

    def cleared(f: FakeTelegram) -> bool:
        return [m.get("text") for m in f.visible(CHAT)] in ([], [DECOY])

    fake.wait_for(cleared, timeout=5)
    assert service.status(enrolled["participant"]) == "paused"
    reasons = [reasons for _, _, _, reasons in service.escalations()]
    assert ("safe_word_used",) in reasons
    assert service.stop() == 0


def test_an_edit_never_answers_again_and_is_handled_once(
    service: Service, fake: FakeTelegram
) -> None:
    started(service, fake)
    next_bot_message(fake, CHAT, 0)
    service.wait_quiet()
    update_id = fake.user_sends(CHAT, "hmm")
    fake.wait_for(lambda f: len(f.sent_texts(CHAT)) >= 2)
    service.wait_quiet()
    sent_before = len(fake.sent_texts(CHAT))
    edit = fake.user_edits(CHAT, _message_id(fake, update_id), "yes")
    fake.duplicate_update(edit)
    fake.wait_for(lambda f: not f.pending_updates())
    time.sleep(0.5)
    service.wait_quiet()
    assert fake.sent_texts(CHAT)[sent_before:] == []  # the edit did not answer the gate
    seen = service.query("SELECT COUNT(*) FROM inbound_seen")
    assert seen[0][0] >= 3  # /start, her message and the edit, each once
    assert "Traceback" not in service.log_text()
    assert service.stop() == 0
