"""Turn what she typed (or pressed) into an answer value, or say why not.

Digits always pick a choice by its number; labels and yes/no words work in
English and in her language. A failure returns a reason the engine turns
into a polite re-ask.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from conversations.answers import AnswerValue
from conversations.lexicon import Lexicon
from conversations.survey import NO, YES, Choice, Item
from conversations.text import fold, fold_word

MAX_FREE_TEXT = 2000
_SEPARATORS = re.compile(r"\s*(?:,|;|/|\+|&|\band\b|\bund\b|\by\b|\be\b|\bet\b)\s*")
_INTEGER = re.compile(r"^\s*([+-]?\d{1,6})\s*$")


@dataclass(frozen=True)
class Parsed:
    value: AnswerValue = None
    problem: str | None = None
    detail: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def match_choice(text: str, choices: tuple[Choice, ...], lexicon: Lexicon) -> str | None:
    """The code of the choice she named by number, label or code; None if unclear."""
    folded = fold(text)
    if not folded:
        return None
    if folded.isdigit():
        number = int(folded)
        return choices[number - 1].code if 1 <= number <= len(choices) else None
    for choice in choices:
        if folded in lexicon.label_forms(choice.label) or folded == fold_word(choice.code):
            return choice.code
    codes = {c.code for c in choices}
    if codes == {YES, NO}:
        if lexicon.means(text, "yes"):
            return YES
        if lexicon.means(text, "no"):
            return NO
    return None


def parse_answer(
    item: Item, text: str, pressed: tuple[str, ...] | None, lexicon: Lexicon
) -> Parsed:
    """Parse a reply to ``item``; ``pressed`` holds codes from buttons, already exact."""
    choices = item.effective_choices()
    if item.type in ("single", "yesno"):
        if pressed is not None:
            ok = len(pressed) == 1 and pressed[0] in item.choice_codes()
            return Parsed(pressed[0]) if ok else Parsed(problem="choice")
        code = match_choice(text, choices, lexicon)
        return Parsed(code) if code else Parsed(problem="choice")
    if item.type == "multi":
        return _parse_multi(item, text, pressed, lexicon)
    if item.type in ("scale", "number"):
        return _parse_number(item, text, pressed)
    if item.type == "text":
        cleaned = "".join(ch for ch in text if ch.isprintable() or ch in "\n\t").strip()
        return Parsed(cleaned[:MAX_FREE_TEXT]) if cleaned else Parsed(problem="text")
    return Parsed(problem="choice")


def _parse_multi(
    item: Item, text: str, pressed: tuple[str, ...] | None, lexicon: Lexicon
) -> Parsed:
    choices = item.effective_choices()
    if pressed is not None:
        codes = list(dict.fromkeys(pressed))
        if not codes or not set(codes) <= set(item.choice_codes()):
            return Parsed(problem="multi")
    else:
        folded = fold(text)
        whole = None if folded.isdigit() else match_choice(text, choices, lexicon)
        if whole is not None:  # one label typed in full, even if it contains "/" or "and"
            parts = [text]
        elif folded and all(t.isdigit() for t in folded.split()):
            parts = folded.split()
        else:
            parts = [p for p in _SEPARATORS.split(text.casefold()) if fold(p)]
        found = [match_choice(part, choices, lexicon) for part in parts]
        if not found or any(code is None for code in found):
            return Parsed(problem="multi")
        codes = list(dict.fromkeys(c for c in found if c is not None))
    clash = [c for c in codes if c in item.exclusive]
    if clash and len(codes) > 1:
        label = next(ch.label for ch in choices if ch.code == clash[0])
        return Parsed(problem="exclusive", detail=label)
    order = {c.code: i for i, c in enumerate(choices)}
    return Parsed(sorted(codes, key=order.__getitem__))


def _parse_number(item: Item, text: str, pressed: tuple[str, ...] | None) -> Parsed:
    raw = pressed[0] if pressed else text
    match = _INTEGER.match(raw)
    if not match:
        return Parsed(problem="number")
    value = int(match.group(1))
    assert item.minimum is not None and item.maximum is not None
    if not item.minimum <= value <= item.maximum:
        return Parsed(problem="number")
    return Parsed(value)
