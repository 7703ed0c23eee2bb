"""SIGKILL at a seeded random point of a T0 survey with risk answers: after the restart she
goes on, every answer is stored exactly once and decrypts, the escalations reach
the worker on call, and at the end her chat is empty (also copies whose answer was lost)."""

from __future__ import annotations

import random
import time
from collections import Counter
from typing import Any

import pytest

from tests.fakes.telegram_api import FakeTelegram

from .conftest import BOTH, MakeService
from .support_crash import contact_zone, hanging, in_flight, kill_when, prepare
from .support_telegram import Service, bot_messages, item_of, next_bot_message
from .support_telegram_script import CLOSING, PLAN, answer

JSONDict = dict[str, Any]
CHAT = 6_200_000_001
STAFF = 6_200_000_999
#: Not safe now and wants help today (URGENT), hit once since last time (HIGH).
RISKY: dict[str, tuple[str, Any]] = {
    **PLAN,
    "safe_now": ("press", "no"),
    "help_now": ("press", "yes"),
    "_help": ("press", "go_on"),
    "viol_physical": ("press", "once"),
}
#: She asked for help today, so she is not asked at the end whether she wants contact.
LAST_ASKED = "hopes"
#: after_answer: killed 0-250 ms after her answer reached Telegram; lost_send: our next
#: message (to her or to staff) was delivered but Telegram's answer never came; hung_send:
#: it never got there. The seed picks which of her first answers the kill follows.
CASES = [(5, "after_answer"), (42, "hung_send"), (1009, "lost_send")]


def newest_question(service: Service, fake: FakeTelegram, after: int) -> JSONDict:
    """Her next question once everything queued went out (a resent copy is the newest)."""
    next_bot_message(fake, CHAT, after, timeout=20)
    service.wait_quiet(timeout=20)
    asking = [m for m in bot_messages(fake, CHAT) if "reply_markup" in m]
    return [m for m in asking if m["message_id"] > after][-1]


class Crasher:
    """Kills and restarts the service as the case says; remembers what may have gone twice."""

    def __init__(self, service: Service, fake: FakeTelegram, rng: random.Random) -> None:
        self.service, self.fake, self.rng = service, fake, rng
        self.maybe_twice: set[tuple[int, str]] = set()

    def arm(self, mode: str) -> None:
        if mode in ("lost_send", "hung_send"):
            self.fake.hang_next("sendMessage", 20, then_apply=mode == "lost_send")

    def crash(self, mode: str, answered: JSONDict) -> JSONDict:
        """Killed after her answer to ``answered``, restarted: her next question."""
        fake, service = self.fake, self.service
        if mode == "after_answer":
            time.sleep(self.rng.uniform(0, 0.25))
            service.kill()
        else:
            kill_when(service, lambda: hanging(fake))
        if mode == "lost_send" or in_flight(service):
            last = fake.calls_to("sendMessage")[-1].params
            self.maybe_twice.add((int(last["chat_id"]), str(last["text"])))
        service.start()
        return newest_question(service, fake, answered["message_id"])


@BOTH
@pytest.mark.parametrize(("seed", "mode"), CASES)
def test_survey_killed_mid_way_loses_and_doubles_nothing(
    make_service: MakeService, fake: FakeTelegram, seed: int, mode: str
) -> None:
    rng = random.Random(seed)
    kill_at = rng.randrange(1, 6)  # her answer to safe_now, help_now, _help, viol_physical, ...
    service = make_service(programme=False)
    fake.open_chat(CHAT)
    fake.open_chat(STAFF)
    [pseudonym] = prepare(service, [CHAT], contact_zone(), staff_telegram_id=STAFF)
    crasher = Crasher(service, fake, rng)
    service.start()

    seen: list[str] = []
    message, step = next_bot_message(fake, CHAT, 0, timeout=20), 0
    while True:
        item = item_of(message)
        assert item not in seen, f"a question came twice: {[*seen, item]}"
        if step == kill_at:
            crasher.arm(mode)
        answer(fake, CHAT, message, RISKY)
        seen.append(item)
        if item == LAST_ASKED:
            break
        if step == kill_at:
            message = crasher.crash(mode, message)
        else:
            message = next_bot_message(fake, CHAT, message["message_id"])
        step += 1

    fake.wait_for(lambda f: CLOSING in f.sent_texts(CHAT), timeout=15)
    fake.wait_for(lambda f: f.visible(CHAT) == [], timeout=15)  # lost copies too
    service.wait_quiet()
    assert service.stop() == 0

    twice = {
        (chat, text)
        for chat in (CHAT, STAFF)
        for text, n in Counter(fake.sent_texts(chat)).items()
        if n > 1
    }
    assert twice <= crasher.maybe_twice, "a message went out twice without a crash to excuse it"
    if mode == "lost_send":
        assert twice == crasher.maybe_twice, "the send whose answer was lost was not sent again"
    questions = [i for i in seen if not i.startswith("_")]
    got = service.answers(pseudonym)
    assert set(got) == set(questions)
    stored = service.scalar("SELECT COUNT(*) FROM answers WHERE timepoint = 'T0'")
    assert stored == len(questions)
    for item in questions:
        how, what = RISKY[item]
        if how == "press":
            assert str(got[item].value) == what, item
    assert got["help_now"].value == "yes" and got["viol_physical"].value == "once"

    escalations = [(code, level, reasons) for code, _, level, reasons in service.escalations()]
    levels = {level for _, level, _ in escalations}
    assert {"URGENT", "HIGH"} <= levels, escalations
    alerts = fake.sent_texts(STAFF)
    for code, level, _ in escalations:
        if level in ("URGENT", "HIGH"):
            assert any(code in text for text in alerts), (code, alerts)
    assert "Traceback" not in service.log_text()
