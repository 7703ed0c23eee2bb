"""Inline keyboards for survey items, and what a pressed button means.

Callback data (at most 64 bytes, Telegram's limit):

- ``item|code``      a single choice (or a scale point): submits at once;
- ``item|code|+``    multi-choice toggle, currently off: pressing selects it;
- ``item|code|-``    multi-choice toggle, currently on (label starts with a tick);
- ``item||done``     submits every ticked code of the keyboard as one answer.

The toggle state lives in the message's own markup, never in memory, so it
survives restarts; the ``+``/``-`` says which state the press asks for, so a
redelivered press changes nothing. Data without ``|`` (staff buttons such as
``esc:ack:E-XXXXX``) is not ours and is passed on untouched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.channels.base import Button, Rendered

MAX_DATA_BYTES = 64
TICK = "✓ "
DONE_SUFFIX = "|done"
_SHORT_LABEL = 3


@dataclass(frozen=True)
class Press:
    """A decoded button press."""

    kind: Literal["choice", "toggle", "done", "other"]
    item: str | None = None
    code: str | None = None
    select: bool = False


def done_data(item: str) -> str:
    """The callback data of the Done button of a multi-choice keyboard."""
    return f"{item}|{DONE_SUFFIX}"


def parse(data: str) -> Press:
    """What a callback's data asks for; anything unknown is ``other``."""
    parts = data.split("|")
    if len(parts) == 2 and parts[0] and parts[1]:
        return Press("choice", parts[0], parts[1])
    if len(parts) == 3 and parts[0]:
        if parts[1] == "" and parts[2] == DONE_SUFFIX[1:]:
            return Press("done", parts[0])
        if parts[1] and parts[2] in ("+", "-"):
            return Press("toggle", parts[0], parts[1], select=parts[2] == "+")
    return Press("other")


def fits(data: str) -> bool:
    return 0 < len(data.encode("utf-8")) <= MAX_DATA_BYTES


def build(message: Rendered) -> InlineKeyboardMarkup | None:
    """The keyboard for a rendered message; None if it has no buttons (or they cannot fit)."""
    if not message.buttons:
        return None
    buttons = [_initial(b, message.multi) for b in message.buttons]
    if not all(fits(b.callback_data) for b in buttons if isinstance(b.callback_data, str)):
        return None
    return InlineKeyboardMarkup(_rows(buttons))


def _initial(button: Button, multi: bool) -> InlineKeyboardButton:
    if multi and not button.data.endswith(DONE_SUFFIX):
        return InlineKeyboardButton(button.label, callback_data=f"{button.data}|+")
    return InlineKeyboardButton(button.label, callback_data=button.data)


def _rows(buttons: list[InlineKeyboardButton]) -> list[list[InlineKeyboardButton]]:
    """Short labels (scale points, yes/no) share rows; longer ones get a row each."""
    if all(len(b.text) <= _SHORT_LABEL for b in buttons):
        return [buttons[i : i + 6] for i in range(0, len(buttons), 6)]
    if len(buttons) == 2 and all(len(b.text) <= 12 for b in buttons):
        return [buttons]
    return [[b] for b in buttons]


def toggled(markup: InlineKeyboardMarkup, press: Press) -> InlineKeyboardMarkup | None:
    """The keyboard after a toggle press; None when it is already in the asked-for state."""
    wanted = f"{press.item}|{press.code}|{'+' if press.select else '-'}"
    rows: list[list[InlineKeyboardButton]] = []
    changed = False
    for row in markup.inline_keyboard:
        new_row: list[InlineKeyboardButton] = []
        for button in row:
            if button.callback_data == wanted:
                button = _flip(button, press.select)
                changed = True
            new_row.append(button)
        rows.append(new_row)
    return InlineKeyboardMarkup(rows) if changed else None


def _flip(button: InlineKeyboardButton, select: bool) -> InlineKeyboardButton:
    data = str(button.callback_data)[:-1]
    if select:
        return InlineKeyboardButton(TICK + button.text, callback_data=data + "-")
    text = button.text[len(TICK) :] if button.text.startswith(TICK) else button.text
    return InlineKeyboardButton(text, callback_data=data + "+")


def ticked(markup: InlineKeyboardMarkup | None, item: str) -> tuple[str, ...]:
    """The codes ticked on ``item``'s keyboard, in keyboard order."""
    if markup is None:
        return ()
    codes: list[str] = []
    for row in markup.inline_keyboard:
        for button in row:
            press = parse(str(button.callback_data or ""))
            if press.kind == "toggle" and press.item == item and not press.select and press.code:
                codes.append(press.code)
    return tuple(codes)


def all_data(markup: InlineKeyboardMarkup) -> Sequence[str]:
    return [str(b.callback_data) for row in markup.inline_keyboard for b in row]
