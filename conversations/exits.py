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


def carrier_stop(state: SessionState, ctx: Context) -> Result:
    effects: list[Effect] = []
    if state.phase != "ended":
        effects.append(DeleteTranscript("opted_out"))
    if ctx.status not in ("opted_out", "withdrawn"):  # never downgrade a stronger stop
        effects += [OptOut(), Escalate("ROUTINE", ("opted_out",))]
    return state.evolve(phase="ended", outcome=state.outcome or "opted_out"), effects


def duress(state: SessionState) -> Result:
    """In a session: an ordinary-looking end. Outside one: nothing new for whoever holds
    her phone, only the silent URGENT alert and the deletion of what was sent."""
    if state.phase == "ended":
        return state, [Escalate("URGENT", ("duress_word",)), DeleteTranscript("duress")]
    closing = say("closing", m.CLOSING)
    effects: list[Effect] = [closing, Escalate("URGENT", ("duress_word",))]
    return end(state, "duress", [*effects, DeleteTranscript("duress")])


def _stand_down(reason: str, alert: str, ctx: Context) -> list[Effect]:
    """Her chat deleted, contact paused, the WSS told (ROUTINE), at most one neutral line;
    an opted-out or withdrawn woman is neither paused again nor written to."""
    effects: list[Effect] = [DeleteTranscript(reason)]
    if ctx.reachable:
        effects.append(PauseContact(reason))
    effects.append(Escalate("ROUTINE", (alert,)))
    if ctx.decoy and ctx.reachable:
        effects.append(say("decoy", m.DECOY, sensitive=False))
    return effects


def safe_word_exit(state: SessionState, ctx: Context) -> Result:
    effects = _stand_down("safe_word", "safe_word_used", ctx)
    return state.evolve(phase="ended", outcome="safe_word"), [EndSession("safe_word"), *effects]


def withdraw(state: SessionState, ctx: Context) -> Result:
    """Someone else may hold her phone: nothing irreversible without her code word (§1.5).

    With a code word, it is asked first (neutrally, as at the gate) and the withdrawal
    follows it. Without one, contact pauses and a ROUTINE escalation asks the WSS to
    confirm with her on a safe route; staff complete it with ``followup withdraw``.
    """
    in_session = state.active or state.phase == "paused"
    if ctx.secrets.needs_code and in_session and not (state.active and state.code_ok):
        return state.evolve(phase="code", withdraw_pending=True), [
            say("code", m.CODE_ASK, sensitive=False)
        ]
    if ctx.secrets.needs_code and state.active and state.code_ok:
        return withdraw_now(state, ctx)
    # No code word, or no session to ask it in: the WSS confirms with her on a safe route.
    effects = _stand_down("withdraw_requested", "withdraw_requested", ctx)
    if state.phase == "ended":
        return state, effects
    return end(state, "withdraw_requested", effects)


def withdraw_now(state: SessionState, ctx: Context) -> Result:
    """Her code word was given: withdrawn for good, seen as an ordinary goodbye."""
    effects: list[Effect] = [
        DeleteTranscript("withdrawn"),
        Withdraw(),
        Escalate("ROUTINE", ("withdrawn",)),
    ]
    if ctx.decoy:
        effects.append(say("decoy", m.DECOY, sensitive=False))
    return state.evolve(phase="ended", outcome="withdrawn"), [*effects, EndSession("withdrawn")]
