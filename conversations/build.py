"""Building the engine's messages and endings: questions, neutral lines, choice picks.

Pure, like the engine: every function returns values (effects, states), never sends.
"""

from __future__ import annotations

from collections.abc import Mapping

from conversations import messages as m
from conversations.effects import Effect, EndSession, Line, Outgoing, Scale, Send
from conversations.events import Reply
from conversations.lexicon import Lexicon
from conversations.parsing import match_choice
from conversations.state import SessionState
from conversations.survey import Choice, Item, Survey
from conversations.vocabulary import MessageKind, Outcome, Phase

Result = tuple[SessionState, list[Effect]]

GATE_CHOICES = (Choice("yes", m.YES_NOW), Choice("not_now", m.NOT_NOW))
SNOOZE_CHOICES = (
    Choice("later_today", m.LATER_TODAY),
    Choice("tomorrow", m.TOMORROW),
    Choice("next_week", m.NEXT_WEEK),
)
HELP_CHOICES = (Choice("go_on", m.GO_ON), Choice("stop_now", m.STOP_NOW))
#: The answers to the consent question (``ReaffirmConsent.answer`` and the stored codes).
CONSENT_CHOICES = (
    Choice("yes", m.YES_NOW),
    Choice("not_this_time", m.NOT_THIS_TIME),
    Choice("stop", m.STOP_FOR_GOOD),
)


def text_of(survey: Survey, item: Item, state: SessionState) -> str:
    return item.text.for_timepoint(state.timepoint, survey.periods)


def question(
    survey: Survey,
    item: Item,
    state: SessionState,
    *,
    prefix: tuple[Line, ...] = (),
    kind: MessageKind = MessageKind.QUESTION,
) -> Send:
    lines = [*prefix, Line(text_of(survey, item, state))]
    if item.hint is not None:
        lines.append(Line(item.hint.for_timepoint(state.timepoint, survey.periods)))
    if item.type == "multi":
        lines.append(Line(m.MULTI_HINT))
    scale = None
    if item.type in ("scale", "number"):
        assert item.minimum is not None and item.maximum is not None
        scale = Scale(
            item.minimum,
            item.maximum,
            item.labels.get(item.minimum),
            item.labels.get(item.maximum),
        )
    answer = {"single": "choice", "yesno": "choice"}.get(item.type, item.type)
    return Send(Outgoing(kind, tuple(lines), item.effective_choices(), answer, item.id, scale))


def say(kind: MessageKind, msgid: str, *, sensitive: bool = True) -> Send:
    return Send(Outgoing(kind, (Line(msgid),), sensitive=sensitive))


def pick(event: Reply, for_item: str, choices: tuple[Choice, ...], lexicon: Lexicon) -> str | None:
    if event.choices is not None:
        if event.for_item not in (None, for_item) or len(event.choices) != 1:
            return None
        return event.choices[0] if event.choices[0] in {c.code for c in choices} else None
    return match_choice(event.text, choices, lexicon)


def pick_or_word(
    event: Reply,
    for_item: str,
    choices: tuple[Choice, ...],
    lexicon: Lexicon,
    words: Mapping[str, str],
) -> str | None:
    """A pressed or typed choice; else the code of the first keyword meaning her whole
    message has (``words``: meaning -> code, in order)."""
    code = pick(event, for_item, choices, lexicon)
    for meaning, mapped in words.items():
        if code is None and lexicon.means(event.text, meaning):
            code = mapped
    return code


def end(
    state: SessionState, outcome: Outcome, effects: list[Effect], *, terminal: bool = True
) -> Result:
    phase = Phase.ENDED if terminal else Phase.PAUSED
    return state.evolve(phase=phase, outcome=outcome), [*effects, EndSession(outcome)]
