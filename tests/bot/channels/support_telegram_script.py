"""Her answers to T0, scripted: buttons, typing and multi-choice ticks, one question at a time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.fakes.telegram_api import FakeTelegram

from .support_telegram import buttons, current, item_of, next_bot_message, press, tick

JSONDict = dict[str, Any]
OPENER = "Hi, it's Sam. Is now a good time for a short chat?"
CLOSING = "Thank you, that's all for now. Take care."
DECOY = "OK, thanks. Have a nice day!"

#: What she does at each question: press a button, type, or tick several and press Done.
PLAN: dict[str, tuple[str, Any]] = {
    "_gate": ("press", "yes"),
    "_consent": ("press", "yes"),
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
LAST = "wants_contact"


def answer(
    fake: FakeTelegram, chat: int, message: JSONDict, plan: dict[str, tuple[str, Any]] = PLAN
) -> str:
    """Answer the question ``message`` as ``plan`` says; returns its item id."""
    item = item_of(message)
    how, what = plan[item]
    if how == "press":
        press(fake, chat, message, f"{item}|{what}")
    elif how == "type":
        fake.user_sends(chat, str(what))
    else:
        codes = list(what)
        for code in codes:
            tick(fake, chat, message, code)
        # untick and tick again: the keyboard holds the state, Done submits what it shows
        fake.user_presses(chat, message["message_id"], f"{item}|{codes[0]}|-")
        fake.wait_for(lambda f: f"{item}|{codes[0]}|+" in buttons(current(f, chat, message)))
        tick(fake, chat, message, codes[0])
        press(fake, chat, message, f"{item}||done")
    return item


def run_plan(
    fake: FakeTelegram,
    chat: int,
    message: JSONDict,
    *,
    until: str = LAST,
    before: Callable[[str], None] = lambda item: None,
) -> list[str]:
    """Answer question after question from ``message`` through item ``until``; items seen."""
    seen: list[str] = []
    while True:
        item = item_of(message)
        assert item not in seen, f"a question came twice: {[*seen, item]}"
        before(item)
        answer(fake, chat, message)
        seen.append(item)
        if item == until:
            return seen
        message = next_bot_message(fake, chat, message["message_id"])
