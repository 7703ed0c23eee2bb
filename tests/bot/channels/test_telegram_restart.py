"""SIGKILL mid-survey and restart: she goes on at the same question, nothing lost or doubled."""

from __future__ import annotations

from collections import Counter

from tests.fakes.telegram_api import FakeTelegram

from .conftest import BOTH
from .support_telegram import Service, next_bot_message, press
from .support_telegram_script import CLOSING, run_plan

CHAT = 8172635490


def question_about(fake: FakeTelegram, words: str) -> dict[str, object]:
    fake.wait_for(lambda f: any(words in m["text"] for m in f.visible(CHAT)), timeout=10)
    return next(m for m in fake.visible(CHAT) if words in m["text"])


@BOTH
def test_killed_twice_mid_survey_she_carries_on(service: Service, fake: FakeTelegram) -> None:
    enrolled = service.enrol()
    service.start()
    fake.user_sends(CHAT, f"/start {enrolled['token']}")
    run_plan(fake, CHAT, next_bot_message(fake, CHAT, 0), until="viol_physical")
    sexual = question_about(fake, "sexual things")
    service.wait_quiet()

    # 1. killed while idle; she answers while it is down; the update waits at Telegram
    service.kill()
    press(fake, CHAT, sexual, "viol_sexual|never")
    service.start()
    psychological = question_about(fake, "insulted")

    # 2. killed while a send hangs without an answer (the request was lost)
    service.wait_quiet()
    fake.hang_next("sendMessage", 30)
    press(fake, CHAT, psychological, "viol_psychological|never")
    fake.wait_for(lambda f: any(c.status == 0 for c in f.calls_to("sendMessage")))
    service.kill()
    service.start()
    controlling = next_bot_message(fake, CHAT, psychological["message_id"])  # type: ignore[arg-type]

    run_plan(fake, CHAT, controlling)
    fake.wait_for(lambda f: CLOSING in f.sent_texts(CHAT), timeout=10)
    fake.wait_for(lambda f: f.visible(CHAT) == [], timeout=10)
    service.wait_quiet()
    assert service.stop() == 0

    texts = fake.sent_texts(CHAT)
    assert [t for t, n in Counter(texts).items() if n > 1] == []
    got = service.answers(enrolled["participant"])
    for item in ("safe_now", "viol_physical", "viol_sexual", "viol_psychological"):
        assert item in got, item
    assert got["viol_sexual"].value == "never" and got["viol_psychological"].value == "never"
    assert got["wants_contact"].value == "no"
    assert "Traceback" not in service.log_text()
