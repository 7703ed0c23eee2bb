"""Property tests: arbitrary text never breaks the engine, and the safe word always wins."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conversations.effects import EndSession, SaveAnswer, Send
from conversations.engine import Context
from conversations.events import Reply
from conversations.state import PHASES
from conversations.survey import Survey

from .conftest import Driver, secrets

ANY_TEXT = st.one_of(
    st.text(max_size=200),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1000, max_size=10_000),
    st.sampled_from(
        [
            "",
            " ",
            "\x00\x01\x1b[31m",
            "\u200f\u202e",
            "🙂🙂",
            "1",
            "9",
            "yes",
            "back",
            "skip",
            "later",
            "not now",
            "bluebird",
            "STOP",
            "START",
            "1 2 3",
            "-1",
            "10",
            "١٢",
            "Ⅻ",
        ]
    ),
)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def ctx() -> Context:
    return Context(secrets=secrets(code="bluebird", duress="sunflower"), free_text=True)


@SETTINGS
@given(st.lists(ANY_TEXT, max_size=25))
def test_engine_never_raises_and_keeps_a_valid_state(mini: Survey, texts: list[str]) -> None:
    d = Driver(mini, ctx())
    d.begin()
    for text in texts:
        d.say(text)
        assert d.state.phase in PHASES
        if d.state.phase == "question":
            assert d.state.current is not None
        for send in d.sent():
            assert send.message.lines, "every message has text"


@SETTINGS
@given(st.lists(ANY_TEXT, max_size=15), st.text(max_size=30), st.text(max_size=30))
def test_safe_word_always_ends_the_session(
    mini: Survey, texts: list[str], before: str, after: str
) -> None:
    d = Driver(mini, ctx())
    d.begin()
    for text in texts:
        d.say(text)
    effects = d.event(Reply(f"{before} pineapple {after}"))
    assert effects[0] == EndSession("safe_word")
    assert not any(isinstance(e, SaveAnswer) for e in effects)
    assert all(e.message.kind == "decoy" for e in effects if isinstance(e, Send))
    assert d.state.phase == "ended"


@SETTINGS
@given(
    st.lists(st.sampled_from(["1", "2", "3", "yes", "no", "skip", "back", "0 1", "5"]), max_size=40)
)
def test_answers_saved_are_valid_for_their_items(mini: Survey, texts: list[str]) -> None:
    d = Driver(mini, Context(secrets=secrets(), free_text=True))
    d.to_questions()
    for text in texts:
        d.say(text)
    for effect in d.of(SaveAnswer):
        assert isinstance(effect, SaveAnswer)
        item = mini.item(effect.item_id)
        answer = effect.answer
        if answer.skipped:
            continue
        if item.type in ("single", "yesno"):
            assert answer.value in item.choice_codes()
        elif item.type == "multi":
            assert isinstance(answer.value, list) and set(answer.value) <= set(item.choice_codes())
        elif item.type in ("scale", "number"):
            assert isinstance(answer.value, int)
            assert item.minimum is not None and item.maximum is not None
            assert item.minimum <= answer.value <= item.maximum
