"""The engine as a pure function: flow, item types, skip logic, commands, safety words."""

from __future__ import annotations

import pytest

from conversations import messages as m
from conversations.answers import Answer
from conversations.effects import (
    ClearAnswer,
    DeleteTranscript,
    EndSession,
    Escalate,
    OptIn,
    OptOut,
    PauseContact,
    SaveAnswer,
    Send,
    Snooze,
)
from conversations.engine import Context
from conversations.events import Begin, Expire, Idle, Reply
from conversations.survey import Survey

from .conftest import Driver, secrets


def msgids(sends: list[Send]) -> list[str]:
    return [line.msgid for s in sends for line in s.message.lines]


# --- the gate and the opener --------------------------------------------------


def test_opener_is_neutral_and_asks_yes_or_not_now(mini: Survey) -> None:
    d = Driver(mini)
    (send,) = d.sent(d.begin())
    assert send.message.kind == "opener"
    assert send.message.sensitive is False
    assert [c.code for c in send.message.choices] == ["yes", "not_now"]
    assert msgids([send]) == [m.OPENER]
    assert d.state.phase == "gate"


def test_nothing_sensitive_before_yes(mini: Survey) -> None:
    d = Driver(mini)
    d.begin()
    for text in ("hello?", "what is this", ""):
        sends = d.sent(d.say(text))
        assert all(not s.message.sensitive for s in sends)
        assert d.state.phase == "gate"


def test_yes_starts_questions_with_how_to_and_info(mini: Survey) -> None:
    d = Driver(mini)
    d.begin()
    assert msgids(d.sent(d.say("Yes"))) == [m.CONSENT_ASK]
    sends = d.sent(d.say("Yes"))
    assert msgids(sends)[:3] == [m.HOW_TO, "A few questions.", "Do you feel safe right now?"]
    assert d.state.current == "safe_now"


@pytest.mark.parametrize(
    ("option", "code"),
    [("1", "later_today"), ("tomorrow", "tomorrow"), ("Next week!", "next_week")],
)
def test_not_now_offers_snooze_choices(mini: Survey, option: str, code: str) -> None:
    d = Driver(mini)
    d.begin()
    sends = d.sent(d.say("2"))
    assert [c.code for c in sends[0].message.choices] == ["later_today", "tomorrow", "next_week"]
    effects = d.say(option)
    assert Snooze(code) in effects
    assert EndSession("snoozed") in effects
    assert any(isinstance(e, DeleteTranscript) for e in effects)
    assert d.state.phase == "paused"


def test_snooze_unclear_is_asked_again(mini: Survey) -> None:
    d = Driver(mini)
    d.begin()
    d.say("not now")
    sends = d.sent(d.say("whenever"))
    assert msgids(sends) == [m.SNOOZE_AGAIN]
    assert d.state.phase == "snooze"


def test_reminder_uses_reminder_opener(mini: Survey) -> None:
    d = Driver(mini)
    effects = d.event(Begin(reminder=1))
    assert msgids(d.sent(effects)) == [m.REMINDER]


# --- code word ------------------------------------------------------------------


def coded(mini: Survey) -> Driver:
    return Driver(mini, Context(secrets=secrets(code="bluebird")))


def test_code_word_asked_before_first_question(mini: Survey) -> None:
    d = coded(mini)
    d.begin()
    assert msgids(d.sent(d.say("yes"))) == [m.CODE_ASK]
    assert msgids(d.sent(d.say("  BlueBird. "))) == [m.CONSENT_ASK]
    d.say("yes")
    assert d.state.phase == "question"
    assert d.state.current == "safe_now"


def test_three_wrong_code_words_lock_and_notify(mini: Survey) -> None:
    d = coded(mini)
    d.begin()
    d.say("yes", "robin", "sparrow")
    assert d.state.phase == "code"
    effects = d.say("crow")
    assert EndSession("locked") in effects
    assert PauseContact("code_word_locked") in effects
    assert Escalate("HIGH", ("code_word_locked",)) in effects
    assert any(isinstance(e, DeleteTranscript) for e in effects)
    assert d.state.phase == "ended"
    assert not d.of(SaveAnswer)


def test_code_word_needed_again_after_resume(mini: Survey) -> None:
    d = coded(mini)
    d.begin()
    d.say("yes", "bluebird", "1", "later")
    assert d.state.phase == "paused"
    d.say("hi")
    assert msgids(d.sent(d.say("yes"))) == [m.CODE_ASK]


# --- item types ---------------------------------------------------------------------


def test_whole_survey_every_item_type(mini: Survey) -> None:
    d = Driver(mini, Context(secrets=secrets(), free_text=True))
    d.to_questions()
    d.say("no")  # safe_now
    d.say("Never")  # hurt, by label
    d.say("2")  # weapon: no
    d.say("1, 2")  # impact: multi
    d.say("7")  # fear
    d.say("yes")  # children
    d.say("3")  # kids_count
    d.say("To feel safe")  # hopes
    d.say("n")  # wants_contact
    effects = d.say("Thanks, nothing more")  # comments
    saved = {e.item_id: e.answer for e in d.of(SaveAnswer)}
    assert saved == {
        "safe_now": Answer("no"),
        "hurt": Answer("never"),
        "weapon": Answer("no"),
        "impact": Answer(["afraid", "sleep"]),
        "fear": Answer(7),
        "children": Answer("yes"),
        "kids_count": Answer(3),
        "hopes": Answer("safety"),
        "wants_contact": Answer("no"),
        "comments": Answer("Thanks, nothing more"),
    }
    assert msgids(d.sent(effects)) == [m.CLOSING]
    assert EndSession("completed") in effects
    assert DeleteTranscript("completed") in effects
    assert d.state.phase == "ended"


def test_free_text_item_not_asked_unless_enabled(mini: Survey) -> None:
    d = Driver(mini)
    d.to_questions()
    d.say("1", "1", "2", "3", "0", "no", "1", "no")
    assert d.state.outcome == "completed"
    assert "comments" not in {e.item_id for e in d.of(SaveAnswer)}


@pytest.mark.parametrize(
    ("item_answers", "bad", "problem"),
    [
        (["1"], "7", m.REPROMPT_CHOICE),  # hurt: out of range
        (["1"], "sometimes", m.REPROMPT_CHOICE),
        (["1", "1", "2"], "1 9", m.REPROMPT_MULTI),  # impact
        (["1", "1", "2", "1"], "eleven", m.REPROMPT_NUMBER),  # fear
        (["1", "1", "2", "1"], "11", m.REPROMPT_NUMBER),
    ],
)
def test_invalid_answers_are_asked_again_politely(
    mini: Survey, item_answers: list[str], bad: str, problem: str
) -> None:
    d = Driver(mini)
    d.to_questions()
    d.say(*item_answers)
    current = d.state.current
    sends = d.sent(d.say(bad))
    assert sends[0].message.kind == "reprompt"
    assert msgids(sends)[0] == problem
    assert d.state.current == current
    assert not any(isinstance(e, SaveAnswer) for e in d.last)


def test_exclusive_choice_cannot_combine(mini: Survey) -> None:
    d = Driver(mini)
    d.to_questions()
    d.say("1", "1", "2")
    sends = d.sent(d.say("1 3"))
    assert msgids(sends)[0] == m.REPROMPT_EXCLUSIVE
    assert sends[0].message.lines[0].params == {"label": "None of these"}
    d.say("3")
    assert SaveAnswer("impact", Answer(["none"])) in d.effects


def test_skip_offered_after_three_failures(mini: Survey) -> None:
    d = Driver(mini)
    d.to_questions()
    d.say("x", "q")
    assert m.OFFER_SKIP not in msgids(d.sent())
    d.say("z")
    assert m.OFFER_SKIP in msgids(d.sent())


def test_buttons_press_codes_and_ignore_stale_buttons(mini: Survey) -> None:
    d = Driver(mini)
    d.to_questions()
    d.press("safe_now", "yes")
    assert d.state.current == "hurt"
    assert d.press("safe_now", "no") == []  # old keyboard
    d.press("hurt", "never")
    d.press("weapon", "no")
    d.press("impact", "afraid", "sleep")
    d.press("fear", "4")
    assert SaveAnswer("impact", Answer(["afraid", "sleep"])) in d.effects
    assert SaveAnswer("fear", Answer(4)) in d.effects


# --- skip logic and timepoints ---------------------------------------------------------


def test_when_condition_skips_item(mini: Survey) -> None:
    d = Driver(mini)
    d.to_questions()
    d.say("1", "1", "2", "3", "5", "no")
    assert d.state.current == "hopes"


def test_timepoint_wording_and_inclusion(mini: Survey) -> None:
    d = Driver(mini, timepoint="T2")
    d.to_questions()
    sends = d.sent(d.say("1"))
    assert msgids(sends) == ["Since we last asked, were you hurt?"]
    d.say("1", "2", "3", "5", "no")
    assert d.state.current == "wants_contact"  # hopes is T0/T1 only


def test_back_changes_answer_and_clears_what_no_longer_applies(mini: Survey) -> None:
    d = Driver(mini)
    d.to_questions()
    d.say("1", "1", "2", "3", "5", "yes", "2")  # children yes, kids_count 2
    assert d.state.current == "hopes"
    d.say("back")
    assert d.state.current == "kids_count"
    d.say("back")
    assert d.state.current == "children"
    effects = d.say("no")
    assert ClearAnswer("kids_count") in effects
    assert "kids_count" not in d.state.answers
    assert d.state.current == "hopes"


def test_back_on_first_question_says_so(mini: Survey) -> None:
    d = Driver(mini)
    d.to_questions()
    sends = d.sent(d.say("BACK"))
    assert msgids(sends)[0] == m.FIRST_QUESTION
    assert d.state.current == "safe_now"


def test_skip_records_skipped(mini: Survey) -> None:
    d = Driver(mini)
    d.to_questions()
    effects = d.say("skip")
    assert SaveAnswer("safe_now", Answer(None, skipped=True)) in effects
    assert d.state.current == "hurt"


def test_later_pauses_and_resumes_at_same_question(mini: Survey) -> None:
    d = Driver(mini)
    d.to_questions()
    d.say("1", "1")
    effects = d.say("later")
    assert EndSession("later") in effects
    assert any(isinstance(e, DeleteTranscript) for e in effects)
    assert d.state.phase == "paused"
    sends = d.sent(d.say("hello"))
    assert msgids(sends) == [m.RESUME]
    assert not sends[0].message.sensitive
    sends = d.sent(d.say("yes"))
    assert msgids(sends) == ["Did he threaten you with a weapon?"]


def test_idle_pauses_and_clears_chat(mini: Survey) -> None:
    d = Driver(mini)
    d.to_questions()
    effects = d.event(Idle())
    assert d.state.phase == "paused"
    assert DeleteTranscript("idle") in effects


def test_expire_ends_as_expired(mini: Survey) -> None:
    d = Driver(mini)
    d.begin()
    effects = d.event(Expire())
    assert EndSession("expired") in effects
    assert d.event(Expire()) == []


# --- risk ----------------------------------------------------------------------------------


def test_high_risk_escalates_and_shows_help_once(mini: Survey) -> None:
    d = Driver(mini)
    d.to_questions()
    d.say("1")
    effects = d.say("often")
    assert Escalate("HIGH", ("new_physical_violence",), "hurt") in effects
    help_sends = d.sent(effects)
    assert help_sends[0].message.kind == "help"
    assert msgids(help_sends) == [m.HELP, m.HELP_GO_ON]
    assert d.state.phase == "help"
    d.say("yes")
    assert d.state.current == "weapon"
    effects = d.say("yes")
    assert Escalate("URGENT", ("weapon",), "weapon") in effects
    assert not [s for s in d.sent(effects) if s.message.kind == "help"]  # once per session


def test_stop_after_help_ends_session(mini: Survey) -> None:
    d = Driver(mini)
    d.to_questions()
    d.say("1", "2")
    effects = d.say("Stop for now")
    assert EndSession("stopped") in effects
    assert msgids(d.sent(effects)) == [m.STOPPED]


def test_routine_risk_escalates_without_help(mini: Survey) -> None:
    d = Driver(mini)
    d.to_questions()
    d.say("1", "1", "2", "3", "5", "no", "1")
    effects = d.say("yes")
    assert Escalate("ROUTINE", ("contact_request",), "wants_contact") in effects
    assert not [s for s in d.sent(effects) if s.message.kind == "help"]


def test_going_back_does_not_escalate_twice(mini: Survey) -> None:
    d = Driver(mini)
    d.to_questions()
    d.say("1", "3", "yes", "back")
    assert d.state.current == "hurt"
    d.say("3")
    assert len(d.of(Escalate)) == 1


# --- safety words --------------------------------------------------------------------------


def drive_to(mini: Survey, phase: str) -> Driver:
    d = Driver(mini, Context(secrets=secrets(code="bluebird", duress="sunflower")))
    if phase == "new":
        return d
    d.begin()
    if phase == "gate":
        return d
    if phase == "snooze":
        d.say("not now")
        return d
    d.say("yes")
    if phase == "code":
        return d
    d.say("bluebird")
    if phase == "consent":
        return d
    d.say("yes")
    if phase == "question":
        return d
    if phase == "reprompt":
        d.say("nonsense", "more nonsense")
        return d
    if phase == "help":
        d.say("1", "3")
        return d
    if phase == "paused":
        d.say("later")
        return d
    d.say("1", "1", "2", "3", "5", "no", "1", "no")
    assert phase == "ended" and d.state.phase == "ended"
    return d


PHASES = [
    "new", "gate", "snooze", "code", "consent", "question", "reprompt", "help", "paused", "ended"
]  # fmt: skip
SAFE_FORMS = [
    "pineapple",
    "PINEAPPLE",
    "Pineapple!",
    "  pine-apple ",
    "PINE APPLE",
    "p.i.n.e.a.p.p.l.e",
    "pine\u200bapple",
    "pin\u0435apple",  # Cyrillic е
    "\u200fPINEAPPLE\u200e",
    "pínéàpplé",
    "ok pineapple now",
]


@pytest.mark.parametrize("phase", PHASES)
@pytest.mark.parametrize("form", SAFE_FORMS)
def test_safe_word_wins_in_every_state(mini: Survey, phase: str, form: str) -> None:
    d = drive_to(mini, phase)
    effects = d.say(form)
    assert effects[0] == EndSession("safe_word")
    assert DeleteTranscript("safe_word") in effects
    assert PauseContact("safe_word") in effects
    assert Escalate("ROUTINE", ("safe_word_used",)) in effects
    sends = d.sent(effects)
    assert len(sends) <= 1
    assert all(s.message.kind == "decoy" and not s.message.sensitive for s in sends)
    assert not any(isinstance(e, SaveAnswer) for e in effects)
    assert d.state.phase == "ended"


def test_no_decoy_when_turned_off(mini: Survey) -> None:
    d = Driver(mini, Context(secrets=secrets(), decoy=False))
    d.to_questions()
    assert d.sent(d.say("pineapple")) == []


@pytest.mark.parametrize("phase", ["gate", "code", "consent", "question", "help"])
def test_duress_looks_like_normal_end(mini: Survey, phase: str) -> None:
    d = drive_to(mini, phase)
    effects = d.say("Sunflower")
    normal = drive_to(mini, "question")
    normal.say("1", "1", "2", "3", "5", "no", "1")
    normal_end = normal.say("no")
    assert msgids(d.sent(effects)) == msgids(normal.sent(normal_end)) == [m.CLOSING]
    assert Escalate("URGENT", ("duress_word",)) in effects
    assert EndSession("duress") in effects


@pytest.mark.parametrize("word", ["STOP", "stop", "Unsubscribe", "QUIT", "cancel"])
def test_carrier_stop_opts_out_silently(mini: Survey, word: str) -> None:
    d = drive_to(mini, "question")
    effects = d.say(word)
    assert OptOut() in effects
    assert Escalate("ROUTINE", ("opted_out",)) in effects
    assert d.sent(effects) == []
    assert d.state.phase == "ended"


def test_stop_inside_a_sentence_is_not_an_opt_out(mini: Survey) -> None:
    d = drive_to(mini, "question")
    effects = d.say("please stop asking")
    assert OptOut() not in effects


def test_start_is_recorded_but_does_not_reactivate(mini: Survey) -> None:
    d = drive_to(mini, "ended")
    assert d.say("START") == [OptIn()]
    assert d.state.phase == "ended"
    assert d.say("yes") == [Escalate("ROUTINE", ("message_outside_session",))]
    assert d.state.phase == "ended"


def test_safe_word_checked_before_carrier_keyword(mini: Survey) -> None:
    d = drive_to(mini, "question")
    effects = d.say("STOP pineapple")
    assert effects[0] == EndSession("safe_word")


# --- issue 15: safety outside a session, edits, carrier keywords ------------------------


@pytest.mark.parametrize("phase", ["ended", "paused", "question", "gate"])
def test_duress_word_works_at_any_time(mini: Survey, phase: str) -> None:
    d = drive_to(mini, phase)
    effects = d.say("sunflower")
    assert Escalate("URGENT", ("duress_word",)) in effects
    assert DeleteTranscript("duress") in effects
    if phase == "ended":
        assert d.sent(effects) == []  # nothing new for whoever holds her phone


def test_duress_word_after_the_safe_word_raises_urgent_silently(mini: Survey) -> None:
    d = drive_to(mini, "question")
    d.say("pineapple")
    effects = d.say("sunflower")
    assert effects == [Escalate("URGENT", ("duress_word",)), DeleteTranscript("duress")]


@pytest.mark.parametrize("status", ["paused", "opted_out", "withdrawn"])
def test_duress_word_when_not_active(mini: Survey, status: str) -> None:
    d = Driver(mini, Context(secrets=secrets(duress="sunflower"), status=status))
    d.state = d.state.evolve(phase="ended", outcome="inactive")
    effects = d.say("SUNFLOWER")
    assert effects == [Escalate("URGENT", ("duress_word",)), DeleteTranscript("duress")]


@pytest.mark.parametrize("form", ["STOP ALL", "stop all!", "OPT OUT", "Opt-Out", "opt.out", "STOP"])
def test_carrier_opt_out_forms(mini: Survey, form: str) -> None:
    d = drive_to(mini, "question")
    effects = d.say(form)
    assert OptOut() in effects
    assert d.state.phase == "ended"


def test_opt_out_keyword_inside_an_answer_is_not_an_opt_out(mini: Survey) -> None:
    d = drive_to(mini, "question")
    assert OptOut() not in d.say("I will not stop all of it")


def test_safe_word_after_stop_never_downgrades_or_sends_a_decoy(mini: Survey) -> None:
    d = Driver(mini, Context(secrets=secrets(), status="opted_out"))
    d.state = d.state.evolve(phase="ended", outcome="inactive")
    effects = d.say("pineapple")
    assert not any(isinstance(e, PauseContact) for e in effects)
    assert d.sent(effects) == []
    assert OptOut() not in d.say("STOP")  # already opted out: nothing to record again


def test_a_message_outside_any_session_asks_a_worker_to_reach_her(mini: Survey) -> None:
    d = drive_to(mini, "ended")
    effects = d.say("help he is here")
    assert effects == [Escalate("ROUTINE", ("message_outside_session",))]


@pytest.mark.parametrize("phase", ["gate", "question", "help", "ended"])
def test_an_edit_runs_the_safety_checks_only(mini: Survey, phase: str) -> None:
    d = drive_to(mini, phase)
    before = d.state
    assert d.event(Reply("1", edited=True)) == []
    assert d.state == before  # never an answer, a reprompt or a step on
    assert EndSession("safe_word") in d.event(Reply("oh pine apple", edited=True))


def test_an_edit_into_the_duress_word_or_stop(mini: Survey) -> None:
    d = drive_to(mini, "question")
    assert Escalate("URGENT", ("duress_word",)) in d.event(Reply("sunflower", edited=True))
    d = drive_to(mini, "question")
    assert OptOut() in d.event(Reply("STOP", edited=True))
