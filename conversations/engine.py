"""The conversation engine: ``step(survey, state, event, now, ctx) -> (state, effects)``.

Pure: no I/O, no clock, no asyncio. The order of checks on every reply is the
safety order of DESIGN.md §1: safe word, carrier stop/start, duress word,
then whatever the current phase expects.
"""

from __future__ import annotations

from datetime import datetime

from conversations import messages as m
from conversations.answers import Answer
from conversations.build import (
    CONSENT_CHOICES,
    GATE_CHOICES,
    HELP_CHOICES,
    SNOOZE_CHOICES,
    Result,
    end,
    pick_or_word,
    question,
    say,
    text_of,
)
from conversations.conditions import evaluate
from conversations.context import Context
from conversations.effects import (
    CONSENT,
    GATE,
    HELP,
    SNOOZE,
    ClearAnswer,
    DeleteTranscript,
    Effect,
    Escalate,
    Line,
    OptIn,
    Outgoing,
    PauseContact,
    ReaffirmConsent,
    SaveAnswer,
    Send,
    Snooze,
)
from conversations.events import Begin, Event, Expire, Idle, Reply
from conversations.exits import carrier_stop, duress, safe_word_exit, withdraw, withdraw_now
from conversations.joining import one_message_per_step
from conversations.lexicon import CARRIER_START, is_carrier_stop
from conversations.parsing import parse_answer
from conversations.state import ACTIVE_PHASES, SessionState
from conversations.survey import Item, Survey
from conversations.text import fold
from conversations.vocabulary import MessageKind, Outcome, ParticipantStatus, Phase

_REPROMPTS = {
    "choice": m.REPROMPT_CHOICE,
    "multi": m.REPROMPT_MULTI,
    "number": m.REPROMPT_NUMBER,
    "text": m.REPROMPT_TEXT,
    "exclusive": m.REPROMPT_EXCLUSIVE,
}
_ESCALATING_LEVELS = ("URGENT", "HIGH")
#: Keyword meanings she may type instead of a choice, per engine question: meaning -> code.
_GATE_WORDS = {"yes": "yes", "not_now": "not_now"}
_CONSENT_WORDS = {"yes": "yes", "not_now": "not_this_time"}
_SNOOZE_WORDS = {option: option for option in ("later_today", "tomorrow", "next_week")}
_HELP_WORDS = {"go_on": "go_on", "stop_now": "stop_now"}


def step(survey: Survey, state: SessionState, event: Event, now: datetime, ctx: Context) -> Result:
    """Advance one session by one event; never raises on anything she types. What it
    says goes out as one message (``one_message_per_step``), not one per line."""
    new_state, effects = _step(survey, state, event, now, ctx)
    return new_state, one_message_per_step(effects)


def _step(survey: Survey, state: SessionState, event: Event, now: datetime, ctx: Context) -> Result:
    del now  # the engine is time-free today; kept so time-based rules stay pure
    if isinstance(event, Reply):
        return _on_reply(survey, state, event, ctx)
    if isinstance(event, Begin):
        return _on_begin(state, event)
    if isinstance(event, Idle):
        if state.active:
            return end(state, Outcome.IDLE, [DeleteTranscript(Outcome.IDLE)], terminal=False)
        return state, []
    if isinstance(event, Expire):
        if state.phase == Phase.ENDED:
            return state, []
        return end(state, Outcome.EXPIRED, [DeleteTranscript(Outcome.EXPIRED)])
    return state, []


# --- safety first -----------------------------------------------------------


def _on_reply(survey: Survey, state: SessionState, event: Reply, ctx: Context) -> Result:
    text = event.text
    if ctx.secrets.has_safe_word(text):
        return safe_word_exit(state, ctx)
    if is_carrier_stop(text):
        return carrier_stop(state, ctx)
    if not event.edited and fold(text) in CARRIER_START:
        return state, [OptIn()]
    if ctx.secrets.has_duress_word(text):
        return duress(state)
    if event.edited:
        return state, []  # an edit is checked for safety only: it never answers again
    if ctx.lexicon.means(text, "withdraw"):
        return withdraw(state, ctx)
    if state.phase == Phase.ENDED:
        if ctx.status == ParticipantStatus.WITHDRAWN:
            return state, []  # she asked for no more contact; her safety words still work
        # "help he is here" between timepoints: a worker reaches her on her safe route.
        return state, [Escalate("ROUTINE", ("message_outside_session",))]
    if state.phase in (Phase.NEW, Phase.PAUSED):
        return _open(state, m.RESUME if state.started else m.OPENER, MessageKind.OPENER)
    if state.phase == Phase.GATE:
        return _on_gate(survey, state, event, ctx)
    if state.phase == Phase.SNOOZE:
        return _on_snooze(state, event, ctx)
    if state.phase == Phase.CODE:
        return _on_code(survey, state, text, ctx)
    if state.phase == Phase.CONSENT:
        return _on_consent(survey, state, event, ctx)
    if state.phase == Phase.HELP:
        return _on_help(survey, state, event, ctx)
    return _on_question(survey, state, event, ctx)


# --- before the questions -----------------------------------------------------


def _on_begin(state: SessionState, event: Begin) -> Result:
    if state.phase == Phase.ENDED:
        return state, []
    if event.reminder:
        return _open(state, m.REMINDER, MessageKind.REMINDER)
    return _open(state, m.RESUME if state.started else m.OPENER, MessageKind.OPENER)


def _open(state: SessionState, msgid: str, kind: MessageKind) -> Result:
    message = Outgoing(kind, (Line(msgid),), GATE_CHOICES, "choice", GATE, sensitive=False)
    return state.evolve(phase=Phase.GATE, invalid_tries=0, code_ok=False), [Send(message)]


def _on_gate(survey: Survey, state: SessionState, event: Reply, ctx: Context) -> Result:
    code = pick_or_word(event, GATE, GATE_CHOICES, ctx.lexicon, _GATE_WORDS)
    if code == "yes":
        if ctx.secrets.needs_code and not state.code_ok:
            code_ask = say(MessageKind.CODE, m.CODE_ASK, sensitive=False)
            return state.evolve(phase=Phase.CODE), [code_ask]
        return _after_gate(survey, state, ctx)
    if code == "not_now":
        ask = Outgoing(
            MessageKind.SNOOZE,
            (Line(m.SNOOZE_ASK),),
            SNOOZE_CHOICES,
            "choice",
            SNOOZE,
            sensitive=False,
        )
        return state.evolve(phase=Phase.SNOOZE, invalid_tries=0), [Send(ask)]
    again = Outgoing(
        MessageKind.GATE, (Line(m.GATE_AGAIN),), GATE_CHOICES, "choice", GATE, sensitive=False
    )
    return state.evolve(invalid_tries=state.invalid_tries + 1), [Send(again)]


def _on_snooze(state: SessionState, event: Reply, ctx: Context) -> Result:
    code = pick_or_word(event, SNOOZE, SNOOZE_CHOICES, ctx.lexicon, _SNOOZE_WORDS)
    if code is None:
        again = Outgoing(
            MessageKind.SNOOZE,
            (Line(m.SNOOZE_AGAIN),),
            SNOOZE_CHOICES,
            "choice",
            SNOOZE,
            sensitive=False,
        )
        return state, [Send(again)]
    effects: list[Effect] = [
        say(MessageKind.NOTICE, m.SNOOZE_OK, sensitive=False),
        Snooze(code),
        DeleteTranscript(Outcome.SNOOZED),
    ]
    return end(state, Outcome.SNOOZED, effects, terminal=False)


def _on_code(survey: Survey, state: SessionState, text: str, ctx: Context) -> Result:
    if ctx.secrets.is_code_word(text):
        if state.withdraw_pending:
            return withdraw_now(state.evolve(code_ok=True, code_tries=0), ctx)
        return _after_gate(survey, state.evolve(code_ok=True, code_tries=0), ctx)
    tries = state.code_tries + 1
    if tries >= ctx.max_code_tries:
        # Deletion first: it cancels unsent messages, and the neutral line must still go out.
        effects: list[Effect] = [
            DeleteTranscript(Outcome.LOCKED),
            PauseContact("code_word_locked"),
            Escalate("HIGH", ("code_word_locked",)),  # someone else may have her phone
            say(MessageKind.NOTICE, m.LOCKED, sensitive=False),
        ]
        return end(state.evolve(code_tries=tries), Outcome.LOCKED, effects)
    code_wrong = say(MessageKind.CODE, m.CODE_WRONG, sensitive=False)
    return state.evolve(code_tries=tries), [code_wrong]


def _after_gate(survey: Survey, state: SessionState, ctx: Context) -> Result:
    """Safe to talk (and her code word given): consent is asked once per timepoint, then
    the questions begin (or go on where she left off)."""
    if state.consent_ok:
        return _start_questions(survey, state, ctx)
    return state.evolve(phase=Phase.CONSENT, invalid_tries=0), [_consent_question(m.CONSENT_ASK)]


def _consent_question(msgid: str) -> Send:
    return Send(
        Outgoing(
            MessageKind.CONSENT, (Line(msgid),), CONSENT_CHOICES, "choice", CONSENT, sensitive=False
        )
    )


def _on_consent(survey: Survey, state: SessionState, event: Reply, ctx: Context) -> Result:
    """Yes: the questions. Not this time: the timepoint ends as declined (no reminders).
    Stop for good: a withdrawal, exactly as her typed WITHDRAW would be (her programme's policy)."""
    code = pick_or_word(event, CONSENT, CONSENT_CHOICES, ctx.lexicon, _CONSENT_WORDS)
    if code == "yes":
        state = state.evolve(consent_ok=True)
        started, effects = _start_questions(survey, state, ctx)
        return started, [ReaffirmConsent("yes"), *effects]
    if code == "not_this_time":
        declined: list[Effect] = [
            ReaffirmConsent("not_this_time"),
            say(MessageKind.CLOSING, m.CONSENT_NOT_THIS_TIME, sensitive=False),
            DeleteTranscript(Outcome.DECLINED),
        ]
        return end(state, Outcome.DECLINED, declined)
    if code == "stop":
        withdrawn, leaving = withdraw(state, ctx)
        return withdrawn, [ReaffirmConsent("stop"), *leaving]
    again = _consent_question(m.CONSENT_AGAIN)
    return state.evolve(invalid_tries=state.invalid_tries + 1), [again]


def _start_questions(survey: Survey, state: SessionState, ctx: Context) -> Result:
    state = state.evolve(phase=Phase.QUESTION, invalid_tries=0)
    if state.current is not None:
        return state, [question(survey, survey.item(state.current), state)]
    how_to = say(MessageKind.INFO, m.HOW_TO)
    state, effects = _advance(survey, state, None, ctx)
    return state, [how_to, *effects]


# --- the questions -----------------------------------------------------------


def _on_question(survey: Survey, state: SessionState, event: Reply, ctx: Context) -> Result:
    assert state.current is not None
    item = survey.item(state.current)
    if event.for_item is not None and event.for_item != item.id:
        return state, []  # an old button: the question it belonged to is gone
    if event.choices is None:
        for command in ("skip", "back", "later"):
            if ctx.lexicon.means(event.text, command):
                return _command(survey, state, item, command, ctx)
    parsed = parse_answer(item, event.text, event.choices, ctx.lexicon)
    if not parsed.ok:
        return _reprompt(survey, state, item, parsed.problem or "choice", parsed.detail, ctx)
    answer = Answer(parsed.value)
    state = state.with_answer(item.id, answer)
    effects: list[Effect] = [SaveAnswer(item.id, answer)]
    raised = _risk(item, state)
    if raised:
        effects.extend(raised)
        state = state.evolve(raised=state.raised | {e.reasons[0] for e in raised})
        if not state.help_shown and any(e.level in _ESCALATING_LEVELS for e in raised):
            return _offer_help(state, effects)
    state, more = _advance(survey, state, item.id, ctx)
    return state, effects + more


def _command(survey: Survey, state: SessionState, item: Item, command: str, ctx: Context) -> Result:
    if command == "later":
        effects: list[Effect] = [
            say(MessageKind.NOTICE, m.LATER_OK),
            DeleteTranscript(Outcome.LATER),
        ]
        return end(state, Outcome.LATER, effects, terminal=False)
    if command == "skip":
        skipped = Answer(None, skipped=True)
        state = state.with_answer(item.id, skipped)
        state, more = _advance(survey, state, item.id, ctx)
        return state, [SaveAnswer(item.id, skipped), *more]
    if not state.history:
        note = question(survey, item, state, prefix=(Line(m.FIRST_QUESTION),))
        return state.evolve(invalid_tries=0), [note]
    previous = state.history[-1]
    state = state.evolve(current=previous, history=state.history[:-1], invalid_tries=0)
    return state, [question(survey, survey.item(previous), state)]


def _reprompt(
    survey: Survey, state: SessionState, item: Item, problem: str, detail: str | None, ctx: Context
) -> Result:
    tries = state.invalid_tries + 1
    params: dict[str, str | int] = {}
    if problem == "number":
        params = {"min": item.minimum or 0, "max": item.maximum or 0}
    if problem == "exclusive" and detail:
        params = {"label": detail}
    prefix = [Line(_REPROMPTS[problem], params)]
    if tries >= ctx.tries_before_skip_offer:
        prefix.append(Line(m.OFFER_SKIP))
    message = question(survey, item, state, prefix=tuple(prefix), kind=MessageKind.REPROMPT)
    return state.evolve(invalid_tries=tries), [message]


def _risk(item: Item, state: SessionState) -> list[Escalate]:
    fired = [r for r in item.risk if evaluate(r.condition, state.answers, item.id)]
    return [
        Escalate(rule.level, (rule.reason,), item.id)
        for rule in fired
        if rule.reason not in state.raised
    ]


def _offer_help(state: SessionState, effects: list[Effect]) -> Result:
    help_message = Outgoing(
        MessageKind.HELP, (Line(m.HELP), Line(m.HELP_GO_ON)), HELP_CHOICES, "choice", HELP
    )
    state = state.evolve(phase=Phase.HELP, help_shown=True, invalid_tries=0)
    return state, [*effects, Send(help_message)]


def _on_help(survey: Survey, state: SessionState, event: Reply, ctx: Context) -> Result:
    code = pick_or_word(event, HELP, HELP_CHOICES, ctx.lexicon, _HELP_WORDS)
    if code == "go_on":
        return _advance(survey, state.evolve(phase=Phase.QUESTION), state.current, ctx)
    if code == "stop_now":
        effects: list[Effect] = [
            say(MessageKind.CLOSING, m.STOPPED),
            DeleteTranscript(Outcome.STOPPED),
        ]
        return end(state, Outcome.STOPPED, effects)
    again = Outgoing(MessageKind.HELP, (Line(m.HELP_AGAIN),), HELP_CHOICES, "choice", HELP)
    return state, [Send(again)]


def _advance(survey: Survey, state: SessionState, after: str | None, ctx: Context) -> Result:
    """Move to the next item that applies, clearing answers that no longer apply."""
    items = survey.items
    start = 0 if after is None else survey.position(after) + 1
    history = state.history if after is None else (*state.history, after)
    effects: list[Effect] = []
    for item in items[start:]:
        if not _applies(item, state, ctx):
            if item.id in state.answers:
                state = state.with_answer(item.id, None)
                effects.append(ClearAnswer(item.id))
            continue
        if item.type == "info":
            info = Outgoing(MessageKind.INFO, (Line(text_of(survey, item, state)),))
            effects.append(Send(info))
            continue
        state = state.evolve(current=item.id, history=history, invalid_tries=0)
        return state, [*effects, question(survey, item, state)]
    closing = say(MessageKind.CLOSING, m.CLOSING)
    state = state.evolve(history=history)
    return end(state, Outcome.COMPLETED, [*effects, closing, DeleteTranscript(Outcome.COMPLETED)])


def _applies(item: Item, state: SessionState, ctx: Context) -> bool:
    if state.timepoint not in item.timepoints:
        return False
    if item.type == "text" and not ctx.free_text:
        return False
    return item.when is None or evaluate(item.when, state.answers)


__all__ = ["ACTIVE_PHASES", "Context", "step"]
