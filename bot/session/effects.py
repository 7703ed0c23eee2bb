"""One handler per engine effect, all inside the step's transaction (as mailroom does).

``apply_effects`` matches every ``Effect`` type once, with ``assert_never`` for the
rest: a new effect in ``conversations/effects.py`` fails the type check until it has a
handler here. Handlers write only through the stores; wake-ups come after commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, assert_never

from bot.clock import iso
from bot.config import Config
from bot.crypto import KeyRing
from bot.datarights.core import withdraw_in_tx
from bot.schedule.contact_request import ContactRequest
from bot.session.outgoing import enqueue_deletion, enqueue_message, snooze_end, with_snooze_day
from bot.store import timepoints as tps
from bot.store.consent import reaffirm
from bot.store.db import Transaction
from bot.store.escalations import (
    EscalationHook,
    RaisedEscalation,
    has_open_escalation,
    raise_escalation,
)
from bot.store.housekeeping import audit
from bot.store.outbox import Outbox, lane_of
from bot.store.participants import Participant, Participants, Programme
from bot.store.sessions import Answers
from conversations.effects import (
    ClearAnswer,
    DeleteTranscript,
    Effect,
    EndSession,
    Escalate,
    OptIn,
    OptOut,
    PauseContact,
    ReaffirmConsent,
    SaveAnswer,
    Send,
    Snooze,
    Withdraw,
)
from conversations.state import SessionState
from conversations.vocabulary import Outcome, ParticipantStatus, Phase
from scheduler.timepoint_states import FINAL_STATES, OUTCOME_STATES

#: A message from her outside any session: a content-free alert, at most one open at a time.
OUTSIDE_SESSION = "message_outside_session"


@dataclass
class StepReport:
    """What one step did, for the console and for tests."""

    participant: Participant
    state: SessionState
    effects: list[Effect] = field(default_factory=list)
    escalations: list[RaisedEscalation] = field(default_factory=list)

    @property
    def ended(self) -> bool:
        return self.state.phase in (Phase.ENDED, Phase.PAUSED)


class EffectHost(Protocol):
    """What the handlers use of the service (``FollowupService`` is one)."""

    ring: KeyRing
    config: Config
    answers: Answers
    participants: Participants
    outbox: Outbox
    escalation_hooks: tuple[EscalationHook, ...]


@dataclass(frozen=True)
class StepFacts:
    """Who, where and when of one step: every handler reads these, none changes them."""

    tx: Transaction
    participant: Participant
    programme: Programme
    session_id: str | None
    state: SessionState
    now: datetime
    priority: int
    contact: ContactRequest | None
    snooze_until: datetime | None


async def apply_effects(
    host: EffectHost,
    facts: StepFacts,
    effects: Sequence[Effect],
    report: StepReport,
) -> None:
    for effect in effects:
        match effect:
            case Send():
                await _send(host, facts, effect)
            case SaveAnswer():
                await _save_answer(host, facts, effect)
            case ClearAnswer():
                await host.answers.clear(
                    facts.tx, facts.participant.id, facts.state.timepoint, effect.item_id
                )
            case Escalate():
                await _escalate(host, facts, effect, report)
            case DeleteTranscript():
                await enqueue_deletion(
                    facts.tx, host.outbox, host.ring, host.config, facts.participant,
                    facts.session_id, effect.reason, facts.now,
                )  # fmt: skip
            case EndSession():
                await _end_session(facts, effect)
            case Snooze():
                await _snooze(facts)
            case PauseContact():
                await _pause(host, facts, effect)
            case OptOut():
                await _opt_out(host, facts)
            case Withdraw():
                await withdraw_in_tx(
                    facts.tx, host.ring, facts.participant, facts.programme, facts.now,
                    actor="participant", lane=lane_of(facts.participant.id),
                )  # fmt: skip
            case OptIn():
                await _opt_in(host, facts)
            case ReaffirmConsent():
                await _reaffirm(facts, effect)
            case _:
                assert_never(effect)


async def _send(host: EffectHost, facts: StepFacts, effect: Send) -> None:
    message = effect.message
    if facts.snooze_until is not None:
        message = with_snooze_day(message, facts.participant, facts.now, facts.snooze_until)
    await enqueue_message(
        facts.tx, host.outbox, host.ring, facts.participant, facts.programme, facts.session_id,
        message, facts.now, facts.priority, facts.contact,
    )  # fmt: skip


async def _save_answer(host: EffectHost, facts: StepFacts, effect: SaveAnswer) -> None:
    pid, timepoint = facts.participant.id, facts.state.timepoint
    await host.answers.save(facts.tx, pid, timepoint, effect.item_id, effect.answer, facts.now)
    if len(facts.state.answers) == 1:  # her first answer of this timepoint
        await tps.update(facts.tx, pid, timepoint, state="in_progress")


async def _reaffirm(facts: StepFacts, effect: ReaffirmConsent) -> None:
    """Her answer kept with her consent version; a yes means she is answering now."""
    pid, timepoint = facts.participant.id, facts.state.timepoint
    await reaffirm(facts.tx, pid, timepoint, effect.answer, facts.now)
    if effect.answer == "yes":
        await tps.update(facts.tx, pid, timepoint, state="in_progress")


async def _escalate(
    host: EffectHost, facts: StepFacts, effect: Escalate, report: StepReport
) -> None:
    participant = facts.participant
    if effect.reasons == (OUTSIDE_SESSION,) and await has_open_escalation(
        facts.tx, host.ring, participant.id, OUTSIDE_SESSION
    ):
        return  # one open alert per woman is enough for a worker to call her
    raised = await raise_escalation(
        facts.tx,
        host.ring,
        level=effect.level,
        reasons=effect.reasons,
        now=facts.now,
        participant_id=participant.id,
        programme_id=participant.programme_id,
        pseudonym=participant.pseudonym,
        session_id=facts.session_id,
        timepoint=facts.state.timepoint,
        hooks=host.escalation_hooks,
    )
    report.escalations.append(raised)


async def _end_session(facts: StepFacts, effect: EndSession) -> None:
    new_state = OUTCOME_STATES.get(effect.outcome)
    if effect.outcome == Outcome.IDLE and not facts.state.started:
        new_state = None  # an unanswered opener stays 'sent', not 'in progress'
    if new_state and facts.state.outcome != Outcome.INACTIVE:
        final = new_state in FINAL_STATES
        await tps.update(
            facts.tx, facts.participant.id, facts.state.timepoint, state=new_state,
            ended_at=iso(facts.now) if final else None,
        )  # fmt: skip


async def _snooze(facts: StepFacts) -> None:
    until = facts.snooze_until
    if until is not None:
        await tps.update(
            facts.tx, facts.participant.id, facts.state.timepoint, state="snoozed",
            snoozed_until=until, next_action_at=until,
        )  # fmt: skip


async def _pause(host: EffectHost, facts: StepFacts, effect: PauseContact) -> None:
    participant = facts.participant
    await host.participants.set_status(
        facts.tx, participant.id, ParticipantStatus.PAUSED, effect.reason, facts.now
    )
    await audit(
        facts.tx, facts.now, "participant", "contact_paused", participant.pseudonym, effect.reason
    )


async def _opt_out(host: EffectHost, facts: StepFacts) -> None:
    participant = facts.participant
    await host.participants.set_status(
        facts.tx, participant.id, ParticipantStatus.OPTED_OUT, "carrier_stop", facts.now
    )
    await audit(facts.tx, facts.now, "participant", "opted_out", participant.pseudonym)


async def _opt_in(host: EffectHost, facts: StepFacts) -> None:
    participant = facts.participant
    await host.participants.record_opt_in(facts.tx, participant.id, facts.now)
    await audit(
        facts.tx, facts.now, "participant", "opt_in_received", participant.pseudonym,
        "recorded; staff must resume contact",
    )  # fmt: skip


def snooze_of(
    host: EffectHost,
    participant: Participant,
    programme: Programme,
    effects: Sequence[Effect],
    now: datetime,
) -> datetime | None:
    """When her snooze ends, if this step snoozes (the first Snooze decides)."""
    for effect in effects:
        if isinstance(effect, Snooze):
            return snooze_end(host.config, host.ring, participant, programme, effect.option, now)
    return None
