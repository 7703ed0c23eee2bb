"""One message per engine step: the ``Send`` effects of a step joined into one ``Send``.

Joined here, in the pure core, so "one step, one message" is a property of the effects
and is tested without I/O; the shell renders one outbox row per step and only a
channel's size limit (``bot.channels.split``) may cut it into parts again.
Invariant: an opener or reminder is never joined (the first message of a contact stays
neutral and alone, DESIGN.md §1.2), a neutral line never joins a sensitive one, a message
that asks (choices, scale, typed answer) ends its message, and nothing joins across a
``DeleteTranscript`` (it cancels what is queued before it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from conversations.effects import DeleteTranscript, Effect, Line, Outgoing, Send
from conversations.vocabulary import SCHEDULED_KINDS


def one_message_per_step(effects: Sequence[Effect]) -> list[Effect]:
    """``effects`` with each run of joinable ``Send``s made one, placed where its last was
    (so every effect the engine put before a line still comes before it)."""
    joined: list[Effect] = []
    open_at: int | None = None  # index in ``joined`` of the Send that can still grow
    for effect in effects:
        if isinstance(effect, Send):
            if open_at is not None:
                earlier = joined[open_at]
                assert isinstance(earlier, Send)
                if joinable(earlier.message, effect.message):
                    del joined[open_at]
                    effect = Send(join(earlier.message, effect.message))
            joined.append(effect)
            open_at = len(joined) - 1
            continue
        if isinstance(effect, DeleteTranscript):
            open_at = None
        joined.append(effect)
    return joined


def asks(message: Outgoing) -> bool:
    """True if the message waits for an answer: nothing may follow it in the same message."""
    return bool(message.choices) or message.scale is not None or message.answer != "none"


def joinable(first: Outgoing, then: Outgoing) -> bool:
    """May ``then`` go out in the same message as ``first``, after it?"""
    if first.kind in SCHEDULED_KINDS or then.kind in SCHEDULED_KINDS:
        return False
    return not asks(first) and first.sensitive == then.sensitive


def join(first: Outgoing, then: Outgoing) -> Outgoing:
    """``first``'s lines, then ``then`` from a new paragraph; ``then`` decides the rest
    (kind, choices, item): it is the part she answers."""
    opening, *rest = then.lines
    lines: tuple[Line, ...] = (*first.lines, replace(opening, paragraph=True), *rest)
    return replace(then, lines=lines)
