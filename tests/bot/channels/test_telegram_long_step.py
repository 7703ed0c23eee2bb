"""A step too long for one Telegram message goes in parts, in order, the keyboard on the
last, and every part is deleted at session end and on the safe word (issue 17).

The real service runs as a subprocess against FakeTelegram (which refuses a text over
4,096 characters, as Telegram does) with a survey whose first step is ~4,800 characters.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.telegram_api import FakeTelegram

from .conftest import MakeService
from .support_telegram import (
    SAFE_WORD,
    Service,
    bot_messages,
    next_bot_message,
    press,
)
from .support_telegram_script import CLOSING, DECOY

CHAT = 6120045871
INTRO = "Thank you for taking part in this follow-up; every answer helps us. " * 38
MORE = "You can skip any question and stop whenever you like; nothing is required. " * 27
QUESTION = "Do you feel safe right now?"
SURVEY = f"""
survey: long
version: 1
title: Long first step
periods: {{baseline: [T0, T1], followup: [T2, T3, T4]}}
items:
  - id: intro
    type: info
    text: "{INTRO.strip()}"
  - id: more
    type: info
    text: "{MORE.strip()}"
  - id: safe_now
    type: yesno
    text: {QUESTION}
"""


def long_step_service(make_service: MakeService, tmp_path: Path, **telegram: Any) -> Service:
    survey = tmp_path / "long.yaml"
    survey.write_text(SURVEY)
    service = make_service(delete_after_seconds=1.0, **telegram)
    with service.config.open("a") as config:
        config.write(f'[survey]\nfile = "{survey}"\n')
    return service


def first_step(service: Service, fake: FakeTelegram) -> tuple[dict[str, str], list[str]]:
    """Enrol, start, say yes at the gate and to the consent question; the texts of the first
    step's parts, in order."""
    enrolled = service.enrol()
    service.start()
    fake.user_sends(CHAT, f"/start {enrolled['token']}")
    opener = next_bot_message(fake, CHAT, 0)
    press(fake, CHAT, opener, "_gate|yes")
    consent = next_bot_message(fake, CHAT, opener["message_id"])
    press(fake, CHAT, consent, "_consent|yes")
    question = next_bot_message(fake, CHAT, consent["message_id"])
    parts = [m for m in bot_messages(fake, CHAT) if m["message_id"] > consent["message_id"]]
    assert parts[-1] == question  # the keyboard is on the last part, and only there
    assert all("reply_markup" not in m for m in parts[:-1])
    assert [b["callback_data"] for row in question["reply_markup"]["inline_keyboard"]
            for b in row] == ["safe_now|yes", "safe_now|no"]  # fmt: skip
    return enrolled, [m["text"] for m in parts]


def test_a_long_step_is_split_in_order_with_the_keyboard_last_and_all_deleted_at_the_end(
    make_service: MakeService, fake: FakeTelegram, tmp_path: Path
) -> None:
    service = long_step_service(make_service, tmp_path)
    _, texts = first_step(service, fake)
    assert len(texts) == 2 and all(len(t) <= 4096 for t in texts)
    assert texts[0].startswith("Reply SKIP to skip a question")
    assert texts[0].endswith(INTRO.strip())
    assert texts[1] == f"{MORE.strip()}\n\n{QUESTION}"
    assert len(fake.calls_to("sendMessage")) == 4  # opener, consent, the step's two parts

    fake.user_sends(CHAT, "yes")  # the last question: the closing, then the chat is cleared
    fake.wait_for(lambda f: CLOSING in f.sent_texts(CHAT), timeout=10)
    fake.wait_for(lambda f: f.visible(CHAT) == [], timeout=10)
    service.wait_quiet()
    sent = len(fake.calls_to("sendMessage"))
    assert sent == 5
    # Every part's reference was recorded (and is deleted), not only the last one's.
    refs = service.query("SELECT deleted_at FROM transcript WHERE direction = 'out' ORDER BY id")
    assert len(refs) == sent and all(deleted for (deleted,) in refs)
    assert service.stop() == 0
    assert "Traceback" not in service.log_text()


def test_the_safe_word_after_a_split_step_deletes_every_part(
    make_service: MakeService, fake: FakeTelegram, tmp_path: Path
) -> None:
    service = long_step_service(make_service, tmp_path)
    first_step(service, fake)
    service.wait_quiet()
    fake.user_sends(CHAT, SAFE_WORD)
    fake.wait_for(lambda f: [m.get("text") for m in f.visible(CHAT)] in ([], [DECOY]), timeout=5)
    service.wait_quiet()
    refs = service.query("SELECT deleted_at FROM transcript WHERE direction = 'out' ORDER BY id")
    assert len(refs) >= 4  # opener, consent, both parts (the decoy may be pending deletion)
    assert all(deleted for (deleted,) in refs[:4])
    assert service.stop() == 0


@pytest.fixture
def strict_fake() -> Iterator[FakeTelegram]:
    with FakeTelegram(enforce_limits=True) as fake:
        yield fake


def test_the_parts_keep_telegram_s_one_message_per_chat_per_second(
    tmp_path: Path, strict_fake: FakeTelegram
) -> None:
    survey = tmp_path / "long.yaml"
    survey.write_text(SURVEY)
    service = Service(tmp_path, strict_fake, max_per_chat_per_second=1.0, chat_burst=1)
    with service.config.open("a") as config:
        config.write(f'[survey]\nfile = "{survey}"\n')
    service.add_programme()
    try:
        _, texts = first_step(service, strict_fake)
        service.wait_quiet()
        assert len(texts) == 2
        assert service.stop() == 0
    finally:
        service.close()
    assert strict_fake.rejected_429 == 0
    assert strict_fake.max_rate_per_chat() <= 1
