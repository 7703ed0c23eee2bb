"""One message per step: the engine joins a step's lines into one Send (issue 17)."""

from __future__ import annotations

from conversations import messages as m
from conversations.answers import Answer
from conversations.effects import (
    DeleteTranscript,
    Escalate,
    Line,
    Outgoing,
    SaveAnswer,
    Send,
)
from conversations.joining import one_message_per_step
from conversations.survey import Choice, Survey
from conversations.vocabulary import MessageKind, Outcome

from .conftest import Driver

YES_NO = (Choice("yes", m.YES_NOW), Choice("no", m.NOT_NOW))


def info(msgid: str, *, sensitive: bool = True) -> Send:
    return Send(Outgoing(MessageKind.INFO, (Line(msgid),), sensitive=sensitive))


def asking(msgid: str, kind: MessageKind = MessageKind.QUESTION) -> Send:
    return Send(Outgoing(kind, (Line(msgid),), YES_NO, "choice", "q"))


def test_the_first_step_is_one_message_how_to_intro_and_question(mini: Survey) -> None:
    d = Driver(mini)
    d.begin()
    (send,) = d.sent(d.say("yes", "yes"))  # the gate, then the consent question
    message = send.message
    assert [line.msgid for line in message.lines] == [
        m.HOW_TO,
        "A few questions.",
        "Do you feel safe right now?",
    ]
    assert [line.paragraph for line in message.lines] == [False, True, True]
    assert message.kind == "question" and message.item_id == "safe_now"
    assert [c.code for c in message.choices] == ["yes", "no"]


def test_every_step_of_a_whole_survey_sends_at_most_one_message(mini: Survey) -> None:
    d = Driver(mini)
    assert len(d.sent(d.begin())) == 1
    steps = 0
    while d.state.phase != "ended":
        d.say("yes" if d.state.phase in ("gate", "consent") else "skip")
        assert len(d.sent()) == 1, d.last
        steps += 1
    assert steps > 8 and d.sent()[0].message.kind == "closing"


def test_a_question_after_a_risk_answer_comes_with_nothing_before_it(mini: Survey) -> None:
    d = Driver(mini)
    d.to_questions()
    d.say("yes")  # safe_now
    effects = d.press("hurt", "once")  # HIGH: help first, alone
    (send,) = d.sent(effects)
    assert send.message.kind == "help"
    assert [type(e) for e in effects[:3]] == [SaveAnswer, Escalate, Send]


def test_the_opener_stays_alone() -> None:
    opener = Send(
        Outgoing(MessageKind.OPENER, (Line(m.OPENER),), YES_NO, "choice", sensitive=False)
    )
    before = info(m.HOW_TO, sensitive=False)
    assert one_message_per_step([before, opener]) == [before, opener]
    after = info(m.SNOOZE_OK, sensitive=False)
    assert one_message_per_step([opener, after]) == [opener, after]


def test_a_neutral_line_never_joins_a_sensitive_one() -> None:
    neutral, sensitive = info(m.LOCKED, sensitive=False), info(m.HOW_TO)
    assert one_message_per_step([sensitive, neutral]) == [sensitive, neutral]


def test_nothing_follows_a_question_in_its_message() -> None:
    question, note = asking("Are you safe?"), info(m.HOW_TO)
    assert one_message_per_step([question, note]) == [question, note]


def test_nothing_joins_across_a_deletion() -> None:
    """A deletion cancels what is queued before it: a line after it must stay its own."""
    first, delete, last = info(m.HOW_TO), DeleteTranscript(Outcome.LOCKED), info(m.CLOSING)
    assert one_message_per_step([first, delete, last]) == [first, delete, last]


def test_joined_lines_keep_their_order_and_go_where_the_last_line_was() -> None:
    save = SaveAnswer("x", Answer(None, skipped=True))
    effects = [info(m.HOW_TO), save, info("Intro."), asking("Are you safe?")]
    joined = one_message_per_step(effects)
    assert joined[0] is save
    (send,) = joined[1:]
    assert isinstance(send, Send)
    assert [(ln.msgid, ln.paragraph) for ln in send.message.lines] == [
        (m.HOW_TO, False),
        ("Intro.", True),
        ("Are you safe?", True),
    ]
    assert send.message.choices == YES_NO and send.message.item_id == "q"
