"""The service: load her session, run the engine, apply its effects in ONE transaction.

Everything a step decides (answers, state, outgoing messages, escalations,
deletions, status changes) commits together or not at all, so a crash can
never leave an answer without its state or a risk without its escalation.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import aiosqlite

from bot.channels.base import CHANNEL_STYLES, PER_MESSAGE_DELETION, Inbound
from bot.clock import Clock, iso
from bot.config import Config
from bot.crypto import KeyRing
from bot.i18n import Translator
from bot.render import ProgrammeWords, render
from bot.scheduling import quiet_hours
from bot.store import timepoints as tps
from bot.store.db import Database
from bot.store.escalations import EscalationHook, RaisedEscalation, raise_escalation
from bot.store.housekeeping import audit, bump, first_time_seen
from bot.store.outbox import PRIORITY_LIVE, PRIORITY_URGENT, PRIORITY_WAVE, Outbox
from bot.store.participants import Participant, Participants, Programme, Programmes
from bot.store.sessions import Answers, Sessions
from bot.store.transcript import Transcript
from bot.words import lexicon_for
from conversations.effects import (
    ClearAnswer,
    DeleteTranscript,
    Effect,
    EndSession,
    Escalate,
    OptIn,
    OptOut,
    PauseContact,
    SaveAnswer,
    Send,
    Snooze,
)
from conversations.engine import Context, step
from conversations.events import Begin, Event, Expire, Idle, Reply
from conversations.state import SessionState
from conversations.survey import Survey
from scheduler.contact import snooze_until
from scheduler.windows import parse_windows

log = logging.getLogger(__name__)

#: Deletions that must not wait for anything (she may be in danger now).
IMMEDIATE_DELETION = frozenset({"safe_word", "opted_out", "locked"})


def lane_of(participant_id: str) -> str:
    return f"p:{participant_id}"


@dataclass
class StepReport:
    """What one step did, for the console and for tests."""

    participant: Participant
    state: SessionState
    effects: list[Effect] = field(default_factory=list)
    escalations: list[RaisedEscalation] = field(default_factory=list)

    @property
    def ended(self) -> bool:
        return self.state.phase in ("ended", "paused")


class FollowupService:
    """The one place where the engine meets the store."""

    def __init__(
        self,
        *,
        db: Database,
        ring: KeyRing,
        survey: Survey,
        config: Config,
        clock: Clock,
        escalation_hooks: tuple[EscalationHook, ...] = (),
        on_outbox: Callable[[], None] = lambda: None,
    ) -> None:
        self.db = db
        self.ring = ring
        self.survey = survey
        self.config = config
        self.clock = clock
        self.escalation_hooks = escalation_hooks
        self.on_outbox = on_outbox
        self.participants = Participants(db, ring)
        self.programmes = Programmes(db)
        self.sessions = Sessions(db, ring)
        self.answers = Answers(db, ring)
        self.outbox = Outbox(db, ring)
        self.transcript = Transcript(db, ring)

    # --- entry points -------------------------------------------------------

    async def handle_inbound(self, msg: Inbound) -> StepReport | None:
        """One message from her (or a stranger); de-duplicated by provider id."""
        now = self.clock.now()
        participant = await self.participants.by_address(msg.channel, msg.address)
        async with self.db.transaction() as tx:
            if participant is None or participant.status in ("erased", "withdrawn"):
                # Before the de-dup row: of a stranger nothing is kept but a count (§1.6).
                await bump(tx, f"unknown_sender:{msg.channel}")
                return None
            if msg.provider_id is not None and not await first_time_seen(
                tx, self.ring, msg.channel, msg.provider_id, now
            ):
                return None
            stored = await self.sessions.current(participant.id)
            if msg.message_ref:
                await self.transcript.record(
                    tx,
                    participant_id=participant.id,
                    session_id=stored.id if stored else None,
                    channel=msg.channel,
                    direction="in",
                    ref=msg.message_ref,
                    now=now,
                )
            event = Reply(msg.text, msg.choices, msg.for_item)
            if stored is None or participant.status != "active":
                # Nothing may re-activate her: only safety words take effect (DESIGN.md §1.7).
                timepoint = stored.state.timepoint if stored else "T0"
                state = SessionState(timepoint, phase="ended", outcome="inactive")
                return await self._run(tx, participant, None, state, event, now, persist=False)
            return await self._run(tx, participant, stored.id, stored.state, event, now)

    async def begin_contact(
        self, participant_id: str, timepoint: str, *, reminder: int = 0, wave: bool = False
    ) -> StepReport | None:
        """Open (or re-open) her session for ``timepoint`` with a neutral opener."""
        now = self.clock.now()
        participant = await self.participants.get(participant_id)
        if participant.status != "active":
            return None
        async with self.db.transaction() as tx:
            stored = await self.sessions.for_timepoint(participant_id, timepoint)
            state = stored.state if stored else SessionState(timepoint)
            await tps.ensure(tx, participant_id, timepoint, None)
            report = await self._run(
                tx,
                participant,
                stored.id if stored else None,
                state,
                Begin(reminder),
                now,
                priority=PRIORITY_WAVE if wave else PRIORITY_LIVE,
            )
            if report.state.phase == "gate":
                await tps.mark_contacted(tx, participant_id, timepoint, reminder, now)
            return report

    async def timeout_session(self, session_id: str, event: Idle | Expire) -> StepReport | None:
        """The scheduler's word that a session went idle or its timepoint expired."""
        now = self.clock.now()
        stored = await self.sessions.get(session_id)
        if stored is None:
            return None
        participant = await self.participants.get(stored.participant_id)
        async with self.db.transaction() as tx:
            return await self._run(tx, participant, stored.id, stored.state, event, now)

    async def mark_unreachable(self, participant_id: str, reason: str) -> None:
        """The channel says she cannot be reached (21610 opted out, invalid number, blocked).

        One transaction: status, unsent messages cancelled, open session ended, a ROUTINE
        escalation. 'opted_out' has the effect of a carrier STOP; only staff re-activate her.
        """
        now = self.clock.now()
        status = "opted_out" if reason == "opted_out" else "unreachable"
        participant = await self.participants.get(participant_id)
        if participant.status in (status, "erased", "withdrawn"):
            return
        stored = await self.sessions.current(participant_id)
        async with self.db.transaction() as tx:
            await self.participants.set_status(tx, participant_id, status, reason, now)
            await self.outbox.cancel_lane(tx, lane_of(participant_id), ("message",))
            if stored is not None and stored.state.phase != "ended":
                ended = stored.state.evolve(phase="ended", outcome=status)
                await self.sessions.save(tx, participant_id, ended, now, stored.id)
                await tps.update(
                    tx, participant_id, ended.timepoint, state=status, ended_at=iso(now)
                )
            await raise_escalation(
                tx,
                level="ROUTINE",
                reasons=("opted_out",) if status == "opted_out" else ("unreachable", reason),
                now=now,
                participant_id=participant_id,
                programme_id=participant.programme_id,
                pseudonym=participant.pseudonym,
                session_id=stored.id if stored else None,
                timepoint=stored.state.timepoint if stored else None,
                hooks=self.escalation_hooks,
            )
            await audit(tx, now, "channel", status, participant.pseudonym, reason)

    # --- the step -------------------------------------------------------------

    def context_for(self, participant: Participant) -> Context:
        return Context(
            secrets=participant.secrets(self.ring),
            lexicon=lexicon_for(participant.language),
            free_text=self.config.survey.free_text,
            decoy=self.config.safety.decoy_reply,
        )

    async def _run(
        self,
        tx: aiosqlite.Connection,
        participant: Participant,
        session_id: str | None,
        state: SessionState,
        event: Event,
        now: datetime,
        *,
        persist: bool = True,
        priority: int = PRIORITY_LIVE,
    ) -> StepReport:
        new_state, effects = step(self.survey, state, event, now, self.context_for(participant))
        if persist:
            session_id = await self.sessions.save(tx, participant.id, new_state, now, session_id)
        report = StepReport(participant, new_state, effects)
        await self._apply(tx, participant, session_id, new_state, effects, now, report, priority)
        if any(isinstance(e, Send | DeleteTranscript) for e in effects):
            self.on_outbox()
        return report

    async def _apply(
        self,
        tx: aiosqlite.Connection,
        participant: Participant,
        session_id: str | None,
        state: SessionState,
        effects: list[Effect],
        now: datetime,
        report: StepReport,
        priority: int,
    ) -> None:
        programme = await self.programmes.get(participant.programme_id)
        pid, timepoint = participant.id, state.timepoint
        for effect in effects:
            if isinstance(effect, Send):
                await self._enqueue_send(
                    tx, participant, programme, session_id, effect, now, priority
                )
            elif isinstance(effect, SaveAnswer):
                await self.answers.save(tx, pid, timepoint, effect.item_id, effect.answer, now)
                await tps.update(tx, pid, timepoint, state="in_progress")
            elif isinstance(effect, ClearAnswer):
                await self.answers.clear(tx, pid, timepoint, effect.item_id)
            elif isinstance(effect, Escalate):
                raised = await raise_escalation(
                    tx,
                    level=effect.level,
                    reasons=effect.reasons,
                    now=now,
                    participant_id=pid,
                    programme_id=participant.programme_id,
                    pseudonym=participant.pseudonym,
                    session_id=session_id,
                    timepoint=timepoint,
                    hooks=self.escalation_hooks,
                )
                report.escalations.append(raised)
            elif isinstance(effect, DeleteTranscript):
                await self._enqueue_deletion(tx, participant, session_id, effect.reason, now)
            elif isinstance(effect, EndSession):
                new_state = tps.OUTCOME_STATES.get(effect.outcome)
                if new_state and state.outcome != "inactive":
                    final = new_state in tps.FINAL_STATES
                    await tps.update(
                        tx, pid, timepoint, state=new_state, ended_at=iso(now) if final else None
                    )
            elif isinstance(effect, Snooze):
                until = self._snooze_until(participant, programme, effect.option, now)
                await tps.update(
                    tx, pid, timepoint, state="snoozed", snoozed_until=until, next_action_at=until
                )
            elif isinstance(effect, PauseContact):
                await self.participants.set_status(tx, pid, "paused", effect.reason, now)
                await audit(
                    tx, now, "participant", "contact_paused", participant.pseudonym, effect.reason
                )
            elif isinstance(effect, OptOut):
                await self.participants.set_status(tx, pid, "opted_out", "carrier_stop", now)
                await audit(tx, now, "participant", "opted_out", participant.pseudonym)
            elif isinstance(effect, OptIn):
                await tx.execute(
                    "UPDATE participants SET opted_in_again_at = ? WHERE id = ?", (iso(now), pid)
                )
                await audit(
                    tx,
                    now,
                    "participant",
                    "opt_in_received",
                    participant.pseudonym,
                    "recorded; staff must resume contact",
                )

    async def _enqueue_send(
        self,
        tx: aiosqlite.Connection,
        participant: Participant,
        programme: Programme,
        session_id: str | None,
        effect: Send,
        now: datetime,
        priority: int,
    ) -> None:
        address = participant.address(self.ring)
        if address is None:
            log.warning("participant %s has no address yet; message dropped", participant.pseudonym)
            return
        words = ProgrammeWords(
            programme.sender_name,
            programme.emergency_number,
            programme.helpline or programme.emergency_number,
        )
        style = CHANNEL_STYLES.get(participant.channel, "numbered")
        rendered = render(effect.message, style, Translator(participant.language), words)
        kind = effect.message.kind
        if kind == "help":
            priority = PRIORITY_URGENT
        elif kind not in ("opener", "reminder"):
            priority = min(priority, PRIORITY_LIVE)
        await self.outbox.enqueue(
            tx,
            lane=lane_of(participant.id),
            channel=participant.channel,
            kind="message",
            priority=priority,
            payload={"address": address, "message": rendered.to_json()},
            now=now,
            participant_id=participant.id,
            session_id=session_id,
        )

    async def _enqueue_deletion(
        self,
        tx: aiosqlite.Connection,
        participant: Participant,
        session_id: str | None,
        reason: str,
        now: datetime,
    ) -> None:
        lane = lane_of(participant.id)
        delay = timedelta(0)
        if reason in IMMEDIATE_DELETION:
            # Unsent questions must never reach the phone after a safe word or a stop.
            await self.outbox.cancel_lane(tx, lane, ("message",))
        else:
            delay = timedelta(seconds=self.config.telegram.delete_after_seconds)
        if participant.channel in PER_MESSAGE_DELETION:
            return  # each message is deleted from the provider once final, not per session
        address = participant.address(self.ring) or ""
        await self.outbox.enqueue(
            tx,
            lane=lane,
            channel=participant.channel,
            kind="delete",
            priority=PRIORITY_URGENT if not delay else PRIORITY_LIVE,
            payload={"address": address, "reason": reason},
            now=now,
            not_before=now + delay,
            participant_id=participant.id,
            session_id=session_id,
        )

    def _snooze_until(
        self, participant: Participant, programme: Programme, option: str, now: datetime
    ) -> datetime:
        quiet = quiet_hours(self.config)
        windows = parse_windows(participant.windows(self.ring))
        until = snooze_until(now, option, windows, quiet, ZoneInfo(participant.timezone))
        return until or now + timedelta(days=1)
