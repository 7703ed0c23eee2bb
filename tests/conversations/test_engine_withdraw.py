"""WITHDRAW: honoured in every state, after the safe word and carrier checks."""

from __future__ import annotations

import pytest

from conversations.effects import (
    DeleteTranscript,
    EndSession,
    Escalate,
    OptOut,
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
def test_withdraw_in_every_state(mini: Survey, phase: str, form: str) -> None:
    d = drive_to(mini, phase)
    effects = d.say(form)
    assert Withdraw() in effects
    assert DeleteTranscript("withdrawn") in effects
    assert Escalate("ROUTINE", ("withdrawn",)) in effects
    assert effects[-1] == EndSession("withdrawn")
    assert not any(isinstance(e, SaveAnswer) for e in effects)
    sends = d.sent(effects)
    assert [s.message.kind for s in sends] == ["decoy"]  # an ordinary goodbye, nothing more
    assert not sends[0].message.sensitive
    assert d.state.phase == "ended"


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
    assert Withdraw() in effects and d.sent(effects) == []


def test_translated_withdraw_word_works(mini: Survey) -> None:
    lexicon = Lexicon().with_words({"withdraw": frozenset({"widerrufen"})})
    d = Driver(mini, Context(secrets=secrets(), lexicon=lexicon))
    d.to_questions()
    assert Withdraw() in d.say("Widerrufen")
