"""Consent reaffirmed at every timepoint: after the gate and the code word, before any question.

Yes starts (or resumes) the questions and is not asked again in that timepoint; "not this
time" ends the timepoint as declined with a neutral line; "stop for good" is a withdrawal,
exactly as her typed WITHDRAW; the safe word and STOP win here as in every phase.
"""

from __future__ import annotations

import pytest

from conversations import messages as m
from conversations.effects import (
    CONSENT,
    DeleteTranscript,
    EndSession,
    Escalate,
    OptOut,
    PauseContact,
    ReaffirmConsent,
    Send,
    Withdraw,
)
from conversations.engine import Context
from conversations.state import SessionState
from conversations.survey import Survey
from conversations.vocabulary import Outcome, Phase

from .conftest import Driver, secrets
from .test_engine import msgids


def at_consent(mini: Survey, code: str | None = None) -> Driver:
    d = Driver(mini, Context(secrets=secrets(code=code)))
    d.begin()
    d.say("yes")
    if code:
        d.say(code)
    assert d.state.phase == Phase.CONSENT
    return d


def test_asked_after_the_gate_as_one_neutral_message_with_three_answers(mini: Survey) -> None:
    d = Driver(mini)
    d.begin()
    (send,) = d.sent(d.say("yes"))
    message = send.message
    assert msgids([send]) == [m.CONSENT_ASK]
    assert not message.sensitive and message.kind == "consent" and message.item_id == CONSENT
    assert [c.code for c in message.choices] == ["yes", "not_this_time", "stop"]
    assert [c.label for c in message.choices] == [m.YES_NOW, m.NOT_THIS_TIME, m.STOP_FOR_GOOD]
    assert not any(isinstance(e, ReaffirmConsent) for e in d.last)


def test_asked_after_the_code_word_not_before(mini: Survey) -> None:
    d = Driver(mini, Context(secrets=secrets(code="bluebird")))
    d.begin()
    assert msgids(d.sent(d.say("yes"))) == [m.CODE_ASK]
    assert msgids(d.sent(d.say("bluebird"))) == [m.CONSENT_ASK]


@pytest.mark.parametrize("how", ["press", "1", "yes", "Yes!"])
def test_yes_records_consent_and_starts_the_questions(mini: Survey, how: str) -> None:
    d = at_consent(mini)
    effects = d.press(CONSENT, "yes") if how == "press" else d.say(how)
    assert effects[0] == ReaffirmConsent("yes")
    assert d.state.phase == Phase.QUESTION and d.state.consent_ok
    assert msgids(d.sent(effects))[0] == m.HOW_TO


def test_not_asked_again_when_she_resumes_the_same_timepoint(mini: Survey) -> None:
    d = at_consent(mini)
    d.say("yes", "1")  # consent, then safe_now
    d.say("later")
    assert d.state.phase == Phase.PAUSED
    d.begin()
    effects = d.say("yes")
    assert not any(isinstance(e, ReaffirmConsent) for e in effects)
    assert d.state.phase == Phase.QUESTION and d.state.current == "hurt"
    restored = SessionState.from_json(d.state.to_json())
    assert restored.consent_ok


def test_asked_again_at_the_next_timepoint(mini: Survey) -> None:
    d = Driver(mini, timepoint="T1")
    d.begin()
    assert msgids(d.sent(d.say("yes"))) == [m.CONSENT_ASK]


@pytest.mark.parametrize("how", ["press", "2", "not now", "Not this time"])
def test_not_this_time_ends_the_timepoint_as_declined(mini: Survey, how: str) -> None:
    d = at_consent(mini)
    effects = d.press(CONSENT, "not_this_time") if how == "press" else d.say(how)
    assert effects[0] == ReaffirmConsent("not_this_time")
    assert msgids(d.sent(effects)) == [m.CONSENT_NOT_THIS_TIME]
    assert all(not s.message.sensitive for s in d.sent(effects))
    assert DeleteTranscript(Outcome.DECLINED) in effects
    assert effects[-1] == EndSession(Outcome.DECLINED)
    assert not EndSession(Outcome.DECLINED).resumable  # no reminders, no carrying on
    assert d.state.phase == Phase.ENDED and d.state.outcome == Outcome.DECLINED


def test_stop_for_good_with_her_code_word_given_withdraws(mini: Survey) -> None:
    d = at_consent(mini, code="bluebird")
    effects = d.press(CONSENT, "stop")
    assert effects[0] == ReaffirmConsent("stop")
    assert Withdraw() in effects and effects[-1] == EndSession(Outcome.WITHDRAWN)
    assert d.state.phase == Phase.ENDED


def test_stop_for_good_without_a_code_word_is_a_withdrawal_request(mini: Survey) -> None:
    """As a typed WITHDRAW without a code word: contact paused, the WSS confirms with her."""
    d = at_consent(mini)
    effects = d.say("3")
    assert effects[0] == ReaffirmConsent("stop")
    assert Withdraw() not in effects
    assert PauseContact(Outcome.WITHDRAW_REQUESTED) in effects
    assert Escalate("ROUTINE", ("withdraw_requested",)) in effects
    assert d.state.outcome == Outcome.WITHDRAW_REQUESTED


@pytest.mark.parametrize("text", ["maybe", "7", "", "what is this?"])
def test_an_unclear_answer_is_asked_again_politely(mini: Survey, text: str) -> None:
    d = at_consent(mini)
    effects = d.say(text)
    assert msgids(d.sent(effects)) == [m.CONSENT_AGAIN]
    assert not any(isinstance(e, ReaffirmConsent) for e in effects)
    assert d.state.phase == Phase.CONSENT and d.state.invalid_tries == 1


def test_an_old_button_from_another_question_does_not_answer_it(mini: Survey) -> None:
    d = at_consent(mini)
    effects = d.press("_gate", "yes")
    assert not any(isinstance(e, ReaffirmConsent) for e in effects)
    assert d.state.phase == Phase.CONSENT


def test_the_safe_word_wins_at_the_consent_question(mini: Survey) -> None:
    d = at_consent(mini)
    effects = d.say("pineapple")
    assert effects[0] == EndSession(Outcome.SAFE_WORD)
    assert not any(isinstance(e, ReaffirmConsent) for e in effects)


def test_stop_wins_at_the_consent_question(mini: Survey) -> None:
    d = at_consent(mini)
    effects = d.say("STOP")
    assert OptOut() in effects
    assert not any(isinstance(e, ReaffirmConsent | Send) for e in effects)
