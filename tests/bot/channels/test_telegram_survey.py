"""End to end: enrol -> /start <token> -> the whole T0 by buttons and typing -> an empty chat.

The real service runs as a subprocess against FakeTelegram, with Telegram's real
limit of one message per chat per second.
"""

from __future__ import annotations

from collections import Counter

from tests.fakes.telegram_api import FakeTelegram

from .conftest import MakeService
from .telegram_harness import (
    buttons,
    current,
    item_of,
    next_bot_message,
    press,
    tick,
)

CHAT = 7394816253
CLOSING = "Thank you, that's all for now. Take care."

#: What she does at each question: press a button, type, or tick several and press Done.
PLAN: dict[str, tuple[str, object]] = {
    "_gate": ("press", "yes"),
    "safe_now": ("press", "yes"),
    "viol_physical": ("press", "never"),
    "viol_sexual": ("type", "Never"),
    "viol_psychological": ("press", "never"),
    "viol_controlling": ("press", "never"),
    "viol_stalking": ("press", "never"),
    "risk_strangulation": ("press", "no"),
    "risk_threat_kill": ("type", "no"),
    "risk_weapon": ("press", "no"),
    "impact": ("multi", ("anxious", "sleep_problems")),
    "police_called": ("press", "no"),
    "fear": ("type", "3"),
    "fear_for_life": ("press", "no"),
    "feel_safe": ("press", "7"),
    "phq4_1": ("press", "several_days"),
    "phq4_2": ("press", "not_at_all"),
    "phq4_3": ("type", "2"),
    "phq4_4": ("press", "not_at_all"),
    "children": ("type", "no"),
    "hopes": ("multi", ("violence_stops", "feel_safe")),
    "wants_contact": ("press", "no"),
}


def answer(fake: FakeTelegram, message: dict[str, object]) -> str:
    item = item_of(message)  # type: ignore[arg-type]
    how, what = PLAN[item]
    if how == "press":
        press(fake, CHAT, message, f"{item}|{what}")  # type: ignore[arg-type]
    elif how == "type":
        fake.user_sends(CHAT, str(what))
    else:
        codes = list(what)  # type: ignore[call-overload]
        for code in codes:
            tick(fake, CHAT, message, code)  # type: ignore[arg-type]
        # untick and tick again: the keyboard holds the state, Done submits what it shows
        tick_off = f"{item}|{codes[0]}|-"
        fake.user_presses(CHAT, message["message_id"], tick_off)  # type: ignore[arg-type]
        fake.wait_for(lambda f: f"{item}|{codes[0]}|+" in buttons(current(f, CHAT, message)))  # type: ignore[arg-type]
        tick(fake, CHAT, message, codes[0])  # type: ignore[arg-type]
        press(fake, CHAT, message, f"{item}||done")  # type: ignore[arg-type]
    return item


def test_whole_t0_over_telegram_leaves_an_empty_chat(
    make_service: MakeService, fake: FakeTelegram
) -> None:
    service = make_service(max_per_chat_per_second=1.0, delete_after_seconds=1.0)
    enrolled = service.enrol()
    assert enrolled["link"] == f"https://t.me/{fake.bot_username}?start={enrolled['token']}"
    service.start()
    try:
        fake.user_sends(CHAT, f"/start {enrolled['token']}")
        seen: list[str] = []
        message = next_bot_message(fake, CHAT, 0)
        assert message["text"] == "Hi, it's Sam. Is now a good time for a short chat?"
        while True:
            item = answer(fake, message)
            seen.append(item)
            assert len(seen) <= len(PLAN), f"a question came twice: {seen}"
            if item == "wants_contact":
                break
            message = next_bot_message(fake, CHAT, message["message_id"])
        fake.wait_for(lambda f: CLOSING in f.sent_texts(CHAT), timeout=10)
        fake.wait_for(lambda f: f.visible(CHAT) == [], timeout=10)
        service.wait_quiet()
        assert service.stop() == 0
    finally:
        service.close()

    assert seen == list(PLAN)
    got = service.answers(enrolled["participant"])
    assert got["safe_now"].value == "yes"
    assert got["viol_sexual"].value == "never"
    assert got["fear"].value == 3 and got["feel_safe"].value == 7
    assert got["phq4_3"].value == "several_days"  # typed "2": the second option
    assert set(got["impact"].value) == {"anxious", "sleep_problems"}  # type: ignore[arg-type]
    assert set(got["hopes"].value) == {"violence_stops", "feel_safe"}  # type: ignore[arg-type]
    assert got["wants_contact"].value == "no"

    texts = fake.sent_texts(CHAT)
    assert texts[-1] == CLOSING
    duplicates = [t for t, n in Counter(texts).items() if n > 1]
    assert duplicates == []
    sends = fake.calls_to("sendMessage")
    assert all(c.params.get("protect_content") is True for c in sends)
    assert all(c.params.get("disable_notification") is True for c in sends)
    assert fake.max_rate_per_chat() <= 1
    assert len(fake.calls_to("answerCallbackQuery")) >= 20
    assert fake.calls_to("deleteMessages")

    stored = service.db_bytes()
    assert len(stored) > 10_000
    assert str(CHAT).encode() not in stored
    assert enrolled["token"].encode() not in stored
    log = service.log_text()
    assert str(CHAT) not in log and fake.token not in log and enrolled["token"] not in log
    assert "Traceback" not in log
