"""What the locale tests share: shipped languages, catalogs, and every SMS a locale can send.

Messages are built the way the engine builds them (``build.question`` and the
engine's own choice tuples) and rendered with ``bot.text.render`` in the "numbered"
style of SMS, so the tests measure what her phone would receive.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from bot.channels.split import parts
from bot.text.i18n import LOCALES_DIR, SOURCE_LANGUAGE, Translator, available_languages, format_day
from bot.text.render import ProgrammeWords, render
from bot.text.surveys import load_survey
from bot.text.words import lexicon_for
from conversations import build
from conversations import messages as m
from conversations.effects import CONSENT, GATE, HELP, SNOOZE, Line, Outgoing, Send
from conversations.engine import Context, step
from conversations.events import Begin, Reply
from conversations.state import SessionState
from conversations.survey import Survey

LANGUAGES = available_languages()
TRANSLATED = [lang for lang in LANGUAGES if lang != SOURCE_LANGUAGE]
SHIPPED = ("en", "de", "es", "it", "fr")
TIMEPOINTS = ("T0", "T1", "T2", "T3", "T4")
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)

#: Placeholder values as long as real ones tend to be (a programme's helpline with its name).
WORDS = ProgrammeWords(
    sender="Annemarie", emergency="112", helpline="Hilfetelefon 0800 116 016 (24 h)"
)


def po_path(language: str) -> Path:
    return LOCALES_DIR / language / "LC_MESSAGES" / "messages.po"


@functools.cache
def catalog(language: str) -> Catalog:
    with po_path(language).open("rb") as handle:
        return read_po(handle, locale=language)


@functools.cache
def template() -> Catalog:
    with (LOCALES_DIR / "messages.pot").open("rb") as handle:
        return read_po(handle)


@functools.cache
def survey() -> Survey:
    return load_survey()


@functools.cache
def longest_day(language: str) -> str:
    """The longest 'Tuesday 3 March' of a year in this language (what {day} can cost)."""
    days = (date(2026, 1, 1) + timedelta(days=n) for n in range(365))
    return max((format_day(d, language) for d in days), key=len)


@dataclass(frozen=True)
class Sms:
    """One message as her phone gets it, and where it came from."""

    what: str
    text: str


def _question(item_id: str, timepoint: str, prefix: tuple[Line, ...] = ()) -> Outgoing:
    s = survey()
    send = build.question(s, s.item(item_id), SessionState(timepoint), prefix=prefix)
    return send.message


def survey_messages() -> Iterator[tuple[str, Outgoing]]:
    """Every survey item at every timepoint it is asked, as the engine sends it."""
    s = survey()
    for item in s.items:
        if item.type == "info":
            for tp in sorted(item.timepoints):
                yield (
                    f"{item.id}@{tp}",
                    Outgoing("info", (Line(item.text.for_timepoint(tp, s.periods)),)),
                )
            continue
        seen: set[tuple[str, ...]] = set()
        for tp in sorted(item.timepoints):
            message = _question(item.id, tp)
            key = tuple(line.msgid for line in message.lines)
            if key not in seen:
                seen.add(key)
                yield f"{item.id}@{tp}", message


def system_messages(language: str) -> Iterator[tuple[str, Outgoing]]:
    """Every system line alone, and the engine's composite system messages."""
    params: dict[str, str | int] = {
        "min": 0, "max": 10, "label": "None of these", "day": longest_day(language),
        "min_label": "Not afraid at all", "max_label": "Extremely afraid",
    }  # fmt: skip
    for name in sorted(vars(m)):
        value = getattr(m, name)
        if name.isupper() and isinstance(value, str):
            yield f"line {name}", Outgoing("notice", (Line(value, params),))
    for name, msgid in (("OPENER", m.OPENER), ("REMINDER", m.REMINDER), ("RESUME", m.RESUME),
                        ("GATE_AGAIN", m.GATE_AGAIN)):  # fmt: skip
        yield (
            f"gate {name}",
            Outgoing("opener", (Line(msgid),), build.GATE_CHOICES, "choice", GATE),
        )
    for name, msgid in (("CONSENT_ASK", m.CONSENT_ASK), ("CONSENT_AGAIN", m.CONSENT_AGAIN)):
        yield (
            f"consent {name}",
            Outgoing("consent", (Line(msgid),), build.CONSENT_CHOICES, "choice", CONSENT),
        )
    for name, msgid in (("SNOOZE_ASK", m.SNOOZE_ASK), ("SNOOZE_AGAIN", m.SNOOZE_AGAIN)):
        yield (
            f"snooze {name}",
            Outgoing("snooze", (Line(msgid),), build.SNOOZE_CHOICES, "choice", SNOOZE),
        )
    yield (
        "help",
        Outgoing("help", (Line(m.HELP), Line(m.HELP_GO_ON)), build.HELP_CHOICES, "choice", HELP),
    )
    yield "help again", Outgoing("help", (Line(m.HELP_AGAIN),), build.HELP_CHOICES, "choice", HELP)


def reprompt_messages() -> Iterator[tuple[str, Outgoing]]:
    """The longest re-asks: the question again after a wrong answer, with the SKIP offer."""
    s = survey()
    problems = {"single": m.REPROMPT_CHOICE, "yesno": m.REPROMPT_CHOICE, "multi": m.REPROMPT_MULTI,
                "scale": m.REPROMPT_NUMBER, "number": m.REPROMPT_NUMBER, "text": m.REPROMPT_TEXT}  # fmt: skip
    for item in s.items:
        if item.type == "info":
            continue
        params: dict[str, str | int] = {"min": item.minimum or 0, "max": item.maximum or 0}
        prefix = (Line(problems[item.type], params), Line(m.OFFER_SKIP))
        for tp in sorted(item.timepoints):
            yield f"re-ask {item.id}@{tp}", _question(item.id, tp, prefix)


@functools.cache
def step_messages() -> tuple[tuple[str, Outgoing], ...]:
    """The engine's own messages, one per step (its lines joined), on walks through the
    whole survey at every timepoint: answering "1" to everything (then SKIP where "1" is
    no answer), and skipping everything, so both sides of every condition are seen."""
    found: dict[tuple[object, ...], tuple[str, Outgoing]] = {}
    ctx = Context(lexicon=lexicon_for(SOURCE_LANGUAGE))
    for timepoint in TIMEPOINTS:
        for walk in ("1", "skip"):
            state, effects = step(survey(), SessionState(timepoint), Begin(), NOW, ctx)
            for turn in range(200):
                for effect in effects:
                    if isinstance(effect, Send):
                        message = effect.message
                        key = tuple((line.msgid, line.paragraph) for line in message.lines)
                        found.setdefault(key, (f"step {timepoint}/{walk}/{turn}", message))
                if state.phase == "ended":
                    break
                answer = "yes" if state.phase == "gate" else walk
                if state.phase == "question" and state.invalid_tries:
                    answer = "skip"
                if state.phase == "help":
                    answer = "1"  # go on
                state, effects = step(survey(), state, Reply(answer), NOW, ctx)
    return tuple(found.values())


def sms_parts(language: str) -> list[Sms]:
    """Every step's message of ``language`` as the SMS channel sends it: cut into parts
    (``bot.channels.split``) where the joined lines are over the budget."""
    tr = Translator(language)
    return [
        Sms(f"{what} part {n}", part.text)
        for what, message in step_messages()
        for n, part in enumerate(parts("sms", render(message, "numbered", tr, WORDS)), start=1)
    ]


def rendered(language: str, messages: Iterator[tuple[str, Outgoing]]) -> list[Sms]:
    tr = Translator(language)
    return [Sms(what, render(msg, "numbered", tr, WORDS).text) for what, msg in messages]


def sms_messages(language: str) -> list[Sms]:
    """Every survey item and every system line of ``language``, as SMS text."""
    return rendered(language, survey_messages()) + rendered(language, system_messages(language))
