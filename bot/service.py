"""The service: load her session, run the engine, apply its effects in ONE transaction.

Everything a step decides (answers, state, outgoing messages, escalations,
deletions, status changes) commits together or not at all, so a crash can
never leave an answer without its state or a risk without its escalation.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import aiosqlite

from bot.channels.base import CHANNEL_STYLES, Inbound
from bot.clock import Clock, iso
from bot.config import Config
from bot.crypto import KeyRing
from bot.i18n import Translator
from bot.render import ProgrammeWords, render
from bot.scheduling import rules_for
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


@dataclass(frozen=True)
class ContactRequest:
    """One opener or reminder the scheduler wants sent."""

    participant_id: str
    timepoint: str
    reminder: int = 0
    wave: bool = False
    dedupe_key: str | None = None
    """Outbox key of this opener/reminder; a second try with the same key writes nothing."""
    not_after: datetime | None = None
    """End of her sendable stretch: the dispatcher drops the message if it is later."""


class DuplicateContact(Exception):
    """The opener's dedupe key is in the outbox already: this contact was made before.
    ``begin_contacts`` checks keys first, so this only guards against a bug (the chunk
    rolls back rather than send twice)."""


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
            if msg.provider_id is not None and not await first_time_seen(
                tx, self.ring, msg.channel, msg.provider_id, now
            ):
                return None
            if participant is None or participant.status in ("erased", "withdrawn"):
                await bump(tx, f"unknown_sender:{msg.channel}")
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
        self,
        participant_id: str,
        timepoint: str,
        *,
        reminder: int = 0,
        wave: bool = False,
        dedupe_key: str | None = None,
        not_after: datetime | None = None,
    ) -> StepReport | None:
        """Open (or re-open) her session for ``timepoint`` with a neutral opener.

        None when she is not active, or when ``dedupe_key`` was used already (another
        sweep got there first): then nothing at all was written.
        """
        request = ContactRequest(participant_id, timepoint, reminder, wave, dedupe_key, not_after)
        return (await self.begin_contacts([request]))[0]

    async def begin_contacts(self, requests: Sequence[ContactRequest]) -> list[StepReport | None]:
        """Open many contacts in ONE transaction (a chunk of a wave); each opener's outbox row
        and its timepoint bookkeeping commit together. None for a partner who is not active
        or whose dedupe key is used (checked under the write lock, so it is exact)."""
        now = self.clock.now()
        pairs = [(r.participant_id, r.timepoint) for r in requests]
        reports: list[StepReport | None] = []
        async with self.db.transaction() as tx:
            people = await self.participants.many([pid for pid, _ in pairs])
            sessions = await self.sessions.for_pairs(pairs)
            used = await self.outbox.used_keys([r.dedupe_key for r in requests if r.dedupe_key])
            await tx.executemany(
                "INSERT OR IGNORE INTO timepoints (participant_id, timepoint) VALUES (?, ?)", pairs
            )
            programmes: dict[int, Programme] = {}
            for request in requests:
                participant = people.get(request.participant_id)
                if participant is None:
                    raise LookupError(f"no participant {request.participant_id}")
                if participant.status != "active" or request.dedupe_key in used:
                    reports.append(None)
                    continue
                if participant.programme_id not in programmes:
                    programme = await self.programmes.get(participant.programme_id)
                    programmes[participant.programme_id] = programme
                stored = sessions.get((request.participant_id, request.timepoint))
                report = await self._run(
                    tx,
                    participant,
                    stored.id if stored else None,
                    stored.state if stored else SessionState(request.timepoint),
                    Begin(request.reminder),
                    now,
                    priority=PRIORITY_WAVE if request.wave else PRIORITY_LIVE,
                    contact=request,
                    programme=programmes[participant.programme_id],
                )
                if report.state.phase == "gate":
                    await tps.mark_contacted(
                        tx, request.participant_id, request.timepoint, request.reminder, now
                    )
                reports.append(report)
        return reports

    async def timeout_session(self, session_id: str, event: Idle | Expire) -> StepReport | None:
        """The scheduler's word that a session went idle or its timepoint expired."""
        now = self.clock.now()
        stored = await self.sessions.get(session_id)
        if stored is None:
            return None
        participant = await self.participants.get(stored.participant_id)
        async with self.db.transaction() as tx:
            return await self._run(tx, participant, stored.id, stored.state, event, now)

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
        contact: ContactRequest | None = None,
        programme: Programme | None = None,
    ) -> StepReport:
        new_state, effects = step(self.survey, state, event, now, self.context_for(participant))
        if persist:
            session_id = await self.sessions.save(tx, participant.id, new_state, now, session_id)
        report = StepReport(participant, new_state, effects)
        programme = programme or await self.programmes.get(participant.programme_id)
        await self._apply(
            tx,
            participant,
            programme,
            session_id,
            new_state,
            effects,
            now,
            report,
            priority,
            contact,
        )
        if any(isinstance(e, Send | DeleteTranscript) for e in effects):
            self.on_outbox()
        return report

    async def _apply(
        self,
        tx: aiosqlite.Connection,
        participant: Participant,
        programme: Programme,
        session_id: str | None,
        state: SessionState,
        effects: list[Effect],
        now: datetime,
        report: StepReport,
        priority: int,
        contact: ContactRequest | None = None,
    ) -> None:
        pid, timepoint = participant.id, state.timepoint
        for effect in effects:
            if isinstance(effect, Send):
                await self._enqueue_send(
                    tx, participant, programme, session_id, effect, now, priority, contact
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
                if effect.outcome == "idle" and not state.started:
                    new_state = None  # an unanswered opener stays 'sent', not 'in progress'
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
        contact: ContactRequest | None = None,
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
        scheduled = contact is not None and kind in ("opener", "reminder")
        dedupe_key = contact.dedupe_key if contact and scheduled else None
        row_id = await self.outbox.enqueue(
            tx,
            lane=lane_of(participant.id),
            channel=participant.channel,
            kind="message",
            priority=priority,
            payload={"address": address, "message": rendered.to_json()},
            now=now,
            participant_id=participant.id,
            session_id=session_id,
            dedupe_key=dedupe_key,
            not_after=contact.not_after if contact and scheduled else None,
        )
        if row_id is None and dedupe_key is not None:
            raise DuplicateContact(dedupe_key)

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
        quiet = rules_for(self.config, programme).quiet
        windows = parse_windows(participant.windows(self.ring))
        until = snooze_until(now, option, windows, quiet, ZoneInfo(participant.timezone))
        return until or now + timedelta(days=1)
