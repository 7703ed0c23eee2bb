"""Segment counting (GSM 03.38 / UCS-2) and: no English survey message over 2 SMS segments.

Every message the engine can send for every item, at every timepoint, is produced by the
engine itself (question, re-asks with and without the SKIP offer, the first-question note)
and rendered as SMS renders it; so are the system lines with their choices.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from bot.channels.segments import sms_segments
from bot.text.i18n import Translator
from bot.text.render import ProgrammeWords, render
from bot.text.surveys import load_survey
from bot.text.words import lexicon_for
from conversations import messages as m
from conversations.effects import GATE, HELP, SNOOZE, Line, Outgoing, Send
from conversations.engine import Context, step
from conversations.events import Reply
from conversations.secrets import SecretWords
from conversations.state import SessionState
from conversations.survey import TIMEPOINTS, Choice, Survey

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
WORDS = ProgrammeWords("Samantha", "999", "National Domestic Abuse Helpline 0808 2000 247")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ("GSM-7", 1)),
        ("a" * 160, ("GSM-7", 1)),
        ("a" * 161, ("GSM-7", 2)),
        ("a" * 306, ("GSM-7", 2)),
        ("a" * 307, ("GSM-7", 3)),
        ("€" * 80, ("GSM-7", 1)),  # extension: 2 septets each
        ("€" * 81, ("GSM-7", 2)),
        ("a" * 152 + "€" + "a" * 10, ("GSM-7", 2)),  # the escape pair is not split
        ("a" * 305 + "{", ("GSM-7", 3)),
        ("Ça è ñ ß Ø @£$¥ ΔΦΓΛΩΠΨΣΘΞ", ("GSM-7", 1)),
        ("ç", ("UCS-2", 1)),  # only capital Ç is in the basic table
        ("ł" * 70, ("UCS-2", 1)),
        ("ł" * 71, ("UCS-2", 2)),
        ("ł" * 134, ("UCS-2", 2)),
        ("ł" * 135, ("UCS-2", 3)),
        ("😀" * 35, ("UCS-2", 1)),  # two UTF-16 code units each
        ("😀" * 36, ("UCS-2", 2)),
        ("a" * 66 + "😀" + "a" * 10, ("UCS-2", 2)),  # the surrogate pair is not split
        ("`", ("UCS-2", 1)),
    ],
)
def test_segments(text: str, expected: tuple[str, int]) -> None:
    assert sms_segments(text) == expected


def english_messages(survey: Survey) -> Iterator[tuple[str, Outgoing]]:
    """(where, message) for everything the engine can send about the survey's items."""
    ctx = Context(secrets=SecretWords("r"), lexicon=lexicon_for("en"), free_text=True)
    for timepoint in TIMEPOINTS:
        items = [i for i in survey.items if timepoint in i.timepoints and i.type != "info"]
        for n, item in enumerate(items):
            base = SessionState(timepoint, phase="question", current=item.id)
            cases = {
                # BACK from the next item re-sends this one as a plain question.
                "question": (base.evolve(current=items[-1].id, history=(item.id,)), "back"),
                "re-ask": (base, "zzz 42"),
                "re-ask offering SKIP": (base.evolve(invalid_tries=9), "zzz 42"),
                "re-ask, out of range": (base.evolve(invalid_tries=9), "99"),
            }
            if item.exclusive:
                cases["re-ask, exclusive"] = (base.evolve(invalid_tries=9), "1 7 8")
            if n == 0:
                cases["first question"] = (base, "back")
            for case, (state, text) in cases.items():
                _, effects = step(survey, state, Reply(text), NOW, ctx)
                for effect in effects:
                    if isinstance(effect, Send):
                        yield f"{timepoint} {item.id} {case}", effect.message
    gate = (Choice("yes", m.YES_NOW), Choice("not_now", m.NOT_NOW))
    snooze = tuple(Choice(c, label) for c, label in [("t", m.LATER_TODAY), ("m", m.TOMORROW), ("w", m.NEXT_WEEK)])  # fmt: skip
    go_on = (Choice("go_on", m.GO_ON), Choice("stop_now", m.STOP_NOW))
    for msgid in (m.OPENER, m.REMINDER, m.RESUME, m.GATE_AGAIN):
        yield msgid, Outgoing("opener", (Line(msgid),), gate, "choice", GATE)
    for msgid in (m.SNOOZE_ASK, m.SNOOZE_AGAIN):
        yield msgid, Outgoing("snooze", (Line(msgid),), snooze, "choice", SNOOZE)
    yield m.HELP, Outgoing("help", (Line(m.HELP), Line(m.HELP_GO_ON)), go_on, "choice", HELP)
    yield m.HELP_AGAIN, Outgoing("help", (Line(m.HELP_AGAIN),), go_on, "choice", HELP)
    for msgid in (m.SNOOZE_OK, m.DECOY, m.LOCKED, m.CODE_ASK, m.CODE_WRONG, m.HOW_TO,
                  m.LATER_OK, m.CLOSING, m.STOPPED):  # fmt: skip
        yield msgid, Outgoing("notice", (Line(msgid),))
    for item in survey.items:
        if item.type == "info":
            for text in item.text.all_texts():
                yield item.id, Outgoing("info", (Line(text),))


def test_every_english_survey_message_fits_two_segments() -> None:
    survey = load_survey("")
    tr = Translator("en")
    seen: dict[str, int] = {}
    for where, message in english_messages(survey):
        text = render(message, "numbered", tr, WORDS).text
        encoding, segments = sms_segments(text)
        assert encoding == "GSM-7", f"{where}: not GSM-7: {text!r}"
        assert segments <= 2, f"{where}: {segments} segments ({len(text)} chars):\n{text}"
        seen[where] = segments
    assert len(seen) > 150 and max(seen.values()) == 2  # the check looked at real messages
    assert any("re-ask offering SKIP" in where for where in seen)


def test_a_long_re_ask_leaves_out_the_question_not_the_choices() -> None:
    survey = load_survey("")
    item = survey.item("impact")
    state = SessionState("T0", phase="question", current=item.id, invalid_tries=9)
    ctx = Context(secrets=SecretWords("r"), lexicon=lexicon_for("en"))
    _, effects = step(survey, state, Reply("zzz"), NOW, ctx)
    [send] = [e for e in effects if isinstance(e, Send)]
    text = render(send.message, "numbered", Translator("en"), WORDS).text
    assert text.startswith("Sorry, I didn't get that. Please reply with one or more numbers")
    assert "You can also reply SKIP to move on." in text
    assert "7 None of these" in text and "caused you any of these" not in text
    short = SessionState("T0", phase="question", current="safe_now")
    _, effects = step(survey, short, Reply("zzz"), NOW, ctx)
    [send] = [e for e in effects if isinstance(e, Send)]
    short_text = render(send.message, "numbered", Translator("en"), WORDS).text
    assert "Do you feel safe right now?" in short_text  # short enough: the question stays
