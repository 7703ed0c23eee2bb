"""Telegram misbehaving mid-survey (429, 500, lost requests, broken proxy): T0 still completes,
no message is sent twice, and the chat ends up empty."""

from __future__ import annotations

from collections import Counter

from tests.fakes.telegram_api import FakeTelegram

from .support_telegram import Service, next_bot_message
from .support_telegram_script import CLOSING, run_plan

CHAT = 6061728394


def test_survey_survives_429_500_timeouts_and_garbage(service: Service, fake: FakeTelegram) -> None:
    enrolled = service.enrol()
    service.start()
    fake.fail_next("sendMessage", 429, retry_after=1)  # the opener waits a second
    fake.user_sends(CHAT, f"/start {enrolled['token']}")
    opener = next_bot_message(fake, CHAT, 0)

    def trouble(item: str) -> None:
        if item == "safe_now":
            fake.fail_next("sendMessage", 500, times=2)
        elif item == "viol_stalking":
            fake.hang_next("sendMessage", 8)  # lost: no answer within the 5 s read timeout
        elif item == "risk_weapon":
            fake.malformed_next("sendMessage")
            fake.fail_next("answerCallbackQuery", 500)
        elif item == "police_called":
            fake.fail_next("editMessageReplyMarkup", 502)  # her old buttons stay; harmless
        elif item == "wants_contact":
            fake.fail_next("deleteMessages", 500)
            fake.fail_next("sendMessage", 429, retry_after=1)

    run_plan(fake, CHAT, opener, before=trouble)
    fake.wait_for(lambda f: CLOSING in f.sent_texts(CHAT), timeout=15)
    fake.wait_for(lambda f: f.visible(CHAT) == [], timeout=15)
    service.wait_quiet()
    assert service.stop() == 0

    texts = fake.sent_texts(CHAT)
    assert [t for t, n in Counter(texts).items() if n > 1] == []
    statuses = Counter(c.status for c in fake.calls_to("sendMessage"))
    assert statuses[429] == 2 and statuses[500] == 2 and statuses[502] >= 1
    got = service.answers(enrolled["participant"])
    assert len(got) >= 20 and got["wants_contact"].value == "no"
    log = service.log_text()
    assert "Traceback" not in log and str(CHAT) not in log
