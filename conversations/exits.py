"""The ways out of a session that safety decides: safe word, carrier stop, duress, withdraw.

Checked before anything else on every reply (DESIGN.md §1). None of them may show
whoever holds her phone more than an ordinary goodbye; none re-activates her.
"""

from __future__ import annotations

from conversations import messages as m
from conversations.build import Result, end, say
from conversations.context import Context
from conversations.effects import (
    DeleteTranscript,
    Effect,
    EndSession,
    Escalate,
    OptOut,
    PauseContact,
    Withdraw,
)
from conversations.state import SessionState
from conversations.vocabulary import MessageKind, Outcome, ParticipantStatus, Phase

#: Statuses a carrier stop never downgrades to opted out.
_STOPPED_FOR_GOOD = frozenset({ParticipantStatus.OPTED_OUT, ParticipantStatus.WITHDRAWN})


def carrier_stop(state: SessionState, ctx: Context) -> Result:
    effects: list[Effect] = []
    if state.phase != Phase.ENDED:
        effects.append(DeleteTranscript(Outcome.OPTED_OUT))
    if ctx.status not in _STOPPED_FOR_GOOD:  # never downgrade a stronger stop
        effects += [OptOut(), Escalate("ROUTINE", ("opted_out",))]
    outcome = state.outcome or Outcome.OPTED_OUT
    return state.evolve(phase=Phase.ENDED, outcome=outcome), effects


def duress(state: SessionState) -> Result:
    """In a session: an ordinary-looking end. Outside one: nothing new for whoever holds
    her phone, only the silent URGENT alert and the deletion of what was sent."""
    if state.phase == Phase.ENDED:
        return state, [Escalate("URGENT", ("duress_word",)), DeleteTranscript(Outcome.DURESS)]
    closing = say(MessageKind.CLOSING, m.CLOSING)
    effects: list[Effect] = [closing, Escalate("URGENT", ("duress_word",))]
    return end(state, Outcome.DURESS, [*effects, DeleteTranscript(Outcome.DURESS)])


def _stand_down(reason: Outcome, alert: str, ctx: Context) -> list[Effect]:
    """Her chat deleted, contact paused, the WSS told (ROUTINE), at most one neutral line;
    an opted-out or withdrawn woman is neither paused again nor written to."""
    effects: list[Effect] = [DeleteTranscript(reason)]
    if ctx.reachable:
        effects.append(PauseContact(reason))
    effects.append(Escalate("ROUTINE", (alert,)))
    if ctx.decoy and ctx.reachable:
        effects.append(say(MessageKind.DECOY, m.DECOY, sensitive=False))
    return effects


def safe_word_exit(state: SessionState, ctx: Context) -> Result:
    effects = _stand_down(Outcome.SAFE_WORD, "safe_word_used", ctx)
    ended = state.evolve(phase=Phase.ENDED, outcome=Outcome.SAFE_WORD)
    return ended, [EndSession(Outcome.SAFE_WORD), *effects]


def withdraw(state: SessionState, ctx: Context) -> Result:
    """Someone else may hold her phone: nothing irreversible without her code word (§1.5).

    With a code word, it is asked first (neutrally, as at the gate) and the withdrawal
    follows it. Without one, contact pauses and a ROUTINE escalation asks the WSS to
    confirm with her on a safe route; staff complete it with ``followup withdraw``.
    """
    in_session = state.active or state.phase == Phase.PAUSED
    if ctx.secrets.needs_code and in_session and not (state.active and state.code_ok):
        return state.evolve(phase=Phase.CODE, withdraw_pending=True), [
            say(MessageKind.CODE, m.CODE_ASK, sensitive=False)
        ]
    if ctx.secrets.needs_code and state.active and state.code_ok:
        return withdraw_now(state, ctx)
    # No code word, or no session to ask it in: the WSS confirms with her on a safe route.
    effects = _stand_down(Outcome.WITHDRAW_REQUESTED, "withdraw_requested", ctx)
    if state.phase == Phase.ENDED:
        return state, effects
    return end(state, Outcome.WITHDRAW_REQUESTED, effects)


def withdraw_now(state: SessionState, ctx: Context) -> Result:
    """Her code word was given: withdrawn for good, seen as an ordinary goodbye."""
    effects: list[Effect] = [
        DeleteTranscript(Outcome.WITHDRAWN),
        Withdraw(),
        Escalate("ROUTINE", ("withdrawn",)),
    ]
    if ctx.decoy:
        effects.append(say(MessageKind.DECOY, m.DECOY, sensitive=False))
    ended = state.evolve(phase=Phase.ENDED, outcome=Outcome.WITHDRAWN)
    return ended, [*effects, EndSession(Outcome.WITHDRAWN)]
