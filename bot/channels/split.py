"""Cutting one rendered message into the parts a channel can carry, in order.

A step of the engine is one message (``conversations.joining``); only a channel's size
limit cuts it again, into parts that fit: whole paragraphs (what were messages of their
own) where they can, else at line boundaries; the buttons go on the last part, under the
question they answer. Keyed by channel name, like ``CHANNEL_STYLES``, so the dispatcher
and tests agree without opening a channel.
Invariant: the parts in order hold every line of the text, none lost, none reordered; a
line is cut inside only where it alone is over a hard limit (Telegram's 4,096), never
for SMS (a long line stays one concatenated SMS, as each message did before joining).
The SMS budget is hers (DESIGN.md §4): a staff alert is never cut where no hard limit says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from bot.channels.base import STAFF_ALERT_KIND, Rendered
from bot.channels.segments import SMS_MAX_SEGMENTS, SMS_MAX_SEGMENTS_UCS2, sms_segments

#: Telegram's limit for one message text, in UTF-16 code units (how the Bot API counts).
TELEGRAM_MAX_TEXT = 4096


def telegram_length(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def sms_fits(text: str) -> bool:
    """Within DESIGN.md §4's budget: 2 segments as GSM-7, 3 where the language needs UCS-2."""
    encoding, segments = sms_segments(text)
    return segments <= (SMS_MAX_SEGMENTS if encoding == "GSM-7" else SMS_MAX_SEGMENTS_UCS2)


@dataclass(frozen=True)
class Budget:
    """What one part of a channel may hold; ``hard``: a line over it must be cut too."""

    fits: Callable[[str], bool]
    hard: bool


BUDGETS: dict[str, Budget] = {
    "telegram": Budget(lambda text: telegram_length(text) <= TELEGRAM_MAX_TEXT, hard=True),
    "sms": Budget(sms_fits, hard=False),
}


def parts(channel: str, message: Rendered) -> tuple[Rendered, ...]:
    """``message`` as the channel must send it: itself if it fits (or the channel has no
    limit, as the console), else its parts in order, the buttons on the last one."""
    budget = BUDGETS.get(channel)
    if budget is None or budget.fits(message.text):
        return (message,)
    if message.kind == STAFF_ALERT_KIND and not budget.hard:
        return (message,)  # a worker's alert stays one (concatenated) SMS, never in halves
    texts = split_text(message.text, budget)
    leading = [replace(message, text=text, buttons=(), multi=False) for text in texts[:-1]]
    return (*leading, replace(message, text=texts[-1]))


def split_text(text: str, budget: Budget) -> list[str]:
    """The pieces of ``text`` that each fit: whole paragraphs (what were messages of their
    own before joining) packed while they fit, then the lines of a paragraph too long alone;
    a line too long alone is cut at spaces only when the limit is hard."""
    pieces: list[str] = []
    for block in _pack(text.split("\n\n"), "\n\n", budget.fits):
        if budget.fits(block):
            pieces.append(block)
            continue
        for piece in _pack(block.split("\n"), "\n", budget.fits):
            if budget.fits(piece) or not budget.hard:
                pieces.append(piece)
            else:
                pieces.extend(_cut_line(piece, budget.fits))
    return pieces or [text]


def _pack(units: list[str], separator: str, fits: Callable[[str], bool]) -> list[str]:
    """Neighbouring units joined while the join fits; a unit too long alone stays alone."""
    packed: list[str] = []
    current = ""
    for unit in (u.strip("\n") for u in units):
        if not unit:
            continue
        joined = f"{current}{separator}{unit}" if current else unit
        if not current or fits(joined):
            current = joined
            continue
        packed.append(current)
        current = unit
    if current:
        packed.append(current)
    return packed


def _cut_line(line: str, fits: Callable[[str], bool]) -> list[str]:
    """A line over a hard limit, in pieces cut at the last space that fits (or anywhere)."""
    pieces: list[str] = []
    rest = line
    while not fits(rest):
        end = _longest_fitting(rest, fits)
        space = rest.rfind(" ", 0, end + 1)
        cut = space if space > 0 else end
        pieces.append(rest[:cut])
        rest = rest[cut:].lstrip(" ")
    return [*pieces, rest]


def _longest_fitting(text: str, fits: Callable[[str], bool]) -> int:
    """The largest n with ``fits(text[:n])`` (at least 1), by bisection."""
    low, high = 1, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if fits(text[:middle]):
            low = middle
        else:
            high = middle - 1
    return low
