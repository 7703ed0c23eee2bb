"""WITHDRAW: honoured in every state, after the safe word and carrier checks; never
irreversible from her phone without her code word (DESIGN.md §1.5)."""

from __future__ import annotations

import pytest

from conversations.effects import (
    DeleteTranscript,
    EndSession,
    Escalate,
    OptOut,
    PauseContact,
    SaveAnswer,
    Withdraw,
)
from conversations.engine import Context
from conversations.lexicon import Lexicon
from conversations.survey import Survey

from .conftest import Driver, secrets
from .test_engine import PHASES, drive_to


@pytest.mark.parametrize("phase", PHASES)
@pytest.mark.parametrize("form", ["WITHDRAW", "withdraw", " Withdraw! "])
def test_withdraw_in_every_state_needs_her_code_word(mini: Survey, phase: str, form: str) -> None:
    """She has a code word: WITHDRAW asks it unless it was given in this session."""
    d = drive_to(mini, phase)
    effects = d.say(form)
    assert not any(isinstance(e, SaveAnswer) for e in effects)
    kinds = [s.message.kind for s in d.sent(effects)]
    if phase in ("consent", "question", "reprompt", "help"):  # her code word was given
        assert Withdraw() in effects
        assert effects[-1] == EndSession("withdrawn")
        assert kinds == ["decoy"]
    elif phase in ("new", "ended"):  # no session to ask it in: the WSS confirms with her
        assert Withdraw() not in effects
        assert Escalate("ROUTINE", ("withdraw_requested",)) in effects
        assert kinds == ["decoy"]
    else:
        assert Withdraw() not in effects
        assert kinds == ["code"]
        assert d.state.phase == "code"


@pytest.mark.parametrize("before", [[], ["yes"], ["yes", "1"], ["yes", "1", "later"]])
def test_withdraw_without_a_code_word_pauses_and_asks_the_wss(
    mini: Survey, before: list[str]
) -> None:
    """Whoever holds her phone cannot withdraw her: contact pauses, a worker confirms."""
    d = Driver(mini, Context(secrets=secrets()))
    d.begin()
    d.say(*before)
    effects = d.say("withdraw")
    assert Withdraw() not in effects
    assert DeleteTranscript("withdraw_requested") in effects
    assert PauseContact("withdraw_requested") in effects
    assert Escalate("ROUTINE", ("withdraw_requested",)) in effects
    sends = d.sent(effects)
    assert [s.message.kind for s in sends] == ["decoy"]  # an ordinary goodbye, nothing more
    assert not sends[0].message.sensitive
    assert d.state.phase == "ended"


def _coded(mini: Survey) -> Driver:
    return Driver(mini, Context(secrets=secrets(code="bluebird")))


@pytest.mark.parametrize("before", [[], ["yes"]])
def test_withdraw_asks_her_code_word_first(mini: Survey, before: list[str]) -> None:
    d = _coded(mini)
    d.begin()
    d.say(*before)
    effects = d.say("withdraw")
    assert Withdraw() not in effects
    assert [s.message.kind for s in d.sent(effects)] == ["code"]
    effects = d.say("bluebird")
    assert Withdraw() in effects
    assert Escalate("ROUTINE", ("withdrawn",)) in effects
    assert effects[-1] == EndSession("withdrawn")
    assert d.state.phase == "ended"


def test_withdraw_after_the_code_word_withdraws(mini: Survey) -> None:
    d = _coded(mini)
    d.begin()
    d.say("yes", "bluebird", "yes")
    assert d.state.phase == "question"
    assert Withdraw() in d.say("withdraw")


def test_withdraw_with_wrong_code_words_locks_and_never_withdraws(mini: Survey) -> None:
    d = _coded(mini)
    d.begin()
    d.say("withdraw", "robin", "sparrow")
    effects = d.say("crow")
    assert Withdraw() not in effects
    assert EndSession("locked") in effects
    assert Escalate("HIGH", ("code_word_locked",)) in effects


def test_safe_word_beats_withdraw(mini: Survey) -> None:
    d = drive_to(mini, "question")
    effects = d.say("withdraw pineapple")
    assert effects[0] == EndSession("safe_word")
    assert Withdraw() not in effects


def test_carrier_stop_is_checked_before_withdraw(mini: Survey) -> None:
    d = drive_to(mini, "question")
    effects = d.say("STOP")
    assert OptOut() in effects and Withdraw() not in effects


def test_withdraw_inside_a_sentence_is_not_a_withdrawal(mini: Survey) -> None:
    d = drive_to(mini, "question")
    effects = d.say("I will not withdraw")
    assert Withdraw() not in effects


def test_withdraw_without_decoy_sends_nothing(mini: Survey) -> None:
    d = Driver(mini, Context(secrets=secrets(), decoy=False))
    d.to_questions()
    effects = d.say("withdraw")
    assert PauseContact("withdraw_requested") in effects and d.sent(effects) == []


def test_translated_withdraw_word_works(mini: Survey) -> None:
    lexicon = Lexicon().with_words({"withdraw": frozenset({"widerrufen"})})
    d = Driver(mini, Context(secrets=secrets(), lexicon=lexicon))
    d.to_questions()
    assert Escalate("ROUTINE", ("withdraw_requested",)) in d.say("Widerrufen")
