"""The service: load her session, run the engine, apply its effects in ONE transaction.

Everything a step decides (answers, state, outgoing messages, escalations,
deletions, status changes) commits together or not at all, so a crash can
never leave an answer without its state or a risk without its escalation.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime

from bot.channels.base import Inbound
from bot.clock import iso
from bot.config import Config
from bot.datarights.secret_words import refresh_secret_digests
from bot.schedule.contact_request import ContactRequest
from bot.session.contacts import contactable
from bot.session.effects import StepFacts, StepReport, apply_effects, snooze_of
from bot.session.outgoing import enqueue_deletion
from bot.session.wave_batch import NotBatchable, open_chunk
from bot.store import timepoints as tps
from bot.store.contact_batch import DuplicateContact
from bot.store.db import Transaction
from bot.store.deletable_chat import has_deletable_message
from bot.store.escalations import (
    EscalationHook,
    raise_escalation,
)
from bot.store.housekeeping import audit, bump, first_time_seen
from bot.store.outbox import PRIORITY_LIVE, PRIORITY_WAVE
from bot.store.participants import Participant, Programme
from bot.store.stores import Stores
from bot.text.words import lexicon_for
from conversations.effects import (
    DeleteTranscript,
    Send,
)
from conversations.engine import Context, step
from conversations.events import Begin, Event, Expire, Idle, Reply
from conversations.state import SessionState
from conversations.survey import Survey
from conversations.vocabulary import Outcome, ParticipantStatus, Phase, TimepointState

log = logging.getLogger(__name__)

PROGRAMME_CACHE_SECONDS = 60.0


#: (transaction, participant id, provider message ref, now): work that must commit with her
#: inbound message or not at all.
InboundRefHook = Callable[[Transaction, str, str, datetime], Awaitable[None]]


class FollowupService:
    """The one place where the engine meets the store."""

    def __init__(
        self,
        *,
        stores: Stores,
        survey: Survey,
        config: Config,
        escalation_hooks: tuple[EscalationHook, ...] = (),
        on_outbox: Callable[[], None] = lambda: None,
        inbound_ref_hooks: Mapping[str, InboundRefHook] | None = None,
    ) -> None:
        self.stores = stores
        self.db = stores.db
        self.ring = stores.ring
        self.survey = survey
        self.config = config
        self.clock = stores.clock
        self.escalation_hooks = escalation_hooks
        self.on_outbox = on_outbox
        self.participants = stores.participants
        self.programmes = stores.programmes
        self.sessions = stores.sessions
        self.answers = stores.answers
        self.outbox = stores.outbox
        self.transcript = stores.transcript
        self._programme_cache: dict[int, tuple[float, Programme]] = {}
        #: Per channel: called inside the transaction that records her inbound message.
        self.inbound_ref_hooks: dict[str, InboundRefHook] = dict(inbound_ref_hooks or {})

    # --- entry points -------------------------------------------------------

    async def handle_inbound(self, msg: Inbound) -> StepReport | None:
        """One message from her (or a stranger); de-duplicated by provider id.

        The look-up, the step and its writes are ONE transaction in ONE hand-off to the
        database thread (``Database.run``)."""
        now = self.clock.now()
        return await self.db.run(lambda tx: self._inbound(tx, msg, now))

    async def _inbound(self, tx: Transaction, msg: Inbound, now: datetime) -> StepReport | None:
        participant = await self.participants.by_address(msg.channel, msg.address)
        if participant is None or participant.status == ParticipantStatus.ERASED:
            # Checked before de-dup so a stranger leaves no trace but the counter (§1.6).
            # A withdrawn woman whose address is still known is no stranger: what she
            # sends is recorded and deleted from her chat like any stray message.
            await bump(tx, f"unknown_sender:{msg.channel}", now=now)
            return None
        if msg.provider_id is not None and not await first_time_seen(
            tx, self.ring, msg.channel, msg.provider_id, now
        ):
            return None
        await refresh_secret_digests(tx, self.ring, participant, msg.text)
        stored = await self.sessions.current(participant.id)
        if msg.message_ref and not (
            msg.edited and await self.transcript.find(msg.channel, msg.message_ref)
        ):
            await self.transcript.record(
                tx,
                participant_id=participant.id,
                session_id=stored.id if stored else None,
                channel=msg.channel,
                direction="in",
                ref=msg.message_ref,
                now=now,
            )
            hook = self.inbound_ref_hooks.get(msg.channel)
            if hook is not None:  # e.g. her SMS's provider-record deletion: same commit
                await hook(tx, participant.id, msg.message_ref, now)
        event = Reply(msg.text, msg.choices, msg.for_item, edited=msg.edited)
        if stored is None or participant.status != ParticipantStatus.ACTIVE:
            # Nothing may re-activate her: only safety words take effect (DESIGN.md §1.7).
            timepoint = stored.state.timepoint if stored else "T0"
            state = SessionState(timepoint, phase=Phase.ENDED, outcome=Outcome.INACTIVE)
            report = await self._run(tx, participant, None, state, event, now, persist=False)
        else:
            report = await self._run(tx, participant, stored.id, stored.state, event, now)
        if (
            msg.message_ref
            and not report.state.active
            and not any(isinstance(e, DeleteTranscript) for e in report.effects)
        ):
            # Outside a session (ended, paused) her message must not stay in her chat either.
            session_id = stored.id if stored else None
            await self._delete(tx, participant, session_id, "stray", now)
            self.db.after_commit(self.on_outbox)
        return report

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
        return (await self._begin_each([request]))[0]

    async def begin_contacts(self, requests: Sequence[ContactRequest]) -> list[StepReport | None]:
        """Open a chunk of a wave's contacts in ONE transaction, one statement per table
        (``bot.session.wave_batch``). If the chunk rolls back (a used dedupe key, an unusual step)
        its contacts are made one by one, each in its own transaction: the others still go
        out, and none twice. None for a partner not contacted."""
        try:
            opened = await open_chunk(self, requests)
        except (DuplicateContact, NotBatchable) as why:
            log.warning("chunk of %d contacts rolled back (%s): one by one", len(requests), why)
            return [await self._begin_one(request) for request in requests]
        return [StepReport(*o) if o is not None else None for o in opened]

    async def _begin_one(self, request: ContactRequest) -> StepReport | None:
        try:
            return (await self._begin_each([request]))[0]
        except DuplicateContact:
            log.warning("a contact of %s was made before: not made again", request.timepoint)
            return None

    async def _begin_each(self, requests: Sequence[ContactRequest]) -> list[StepReport | None]:
        """Open contacts in ONE transaction, statement by statement (the general path);
        None for a partner who is not active or whose dedupe key is used (checked under
        the write lock, so it is exact)."""
        now = self.clock.now()

        async def each(tx: Transaction) -> list[StepReport | None]:
            reports: list[StepReport | None] = []
            gate, sessions = await contactable(
                tx, self.participants, self.sessions, self.outbox, requests
            )
            programmes: dict[int, Programme] = {}
            for request, participant in zip(requests, gate, strict=True):
                if participant is None:
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
                if report.state.phase == Phase.GATE:
                    await tps.mark_contacted(
                        tx, request.participant_id, request.timepoint, request.reminder, now
                    )
                reports.append(report)
            return reports

        return await self.db.run(each)

    async def begin_contact_tx(
        self,
        tx: Transaction,
        participant: Participant,
        timepoint: str,
        now: datetime,
        *,
        reminder: int = 0,
        wave: bool = False,
    ) -> StepReport:
        """``begin_contact`` inside the caller's transaction (e.g. the one linking her chat)."""
        stored = await self.sessions.for_timepoint(participant.id, timepoint)
        state = stored.state if stored else SessionState(timepoint)
        await tps.ensure(tx, participant.id, timepoint, None)
        report = await self._run(
            tx,
            participant,
            stored.id if stored else None,
            state,
            Begin(reminder),
            now,
            priority=PRIORITY_WAVE if wave else PRIORITY_LIVE,
        )
        if report.state.phase == Phase.GATE:
            await tps.mark_contacted(tx, participant.id, timepoint, reminder, now)
        return report

    async def timeout_session(self, session_id: str, event: Idle | Expire) -> StepReport | None:
        """The scheduler's word that a session went idle or its timepoint expired."""
        now = self.clock.now()

        async def timeout(tx: Transaction) -> StepReport | None:
            stored = await self.sessions.get(session_id)
            if stored is None:
                return None
            participant = await self.participants.get(stored.participant_id)
            return await self._run(tx, participant, stored.id, stored.state, event, now)

        return await self.db.run(timeout)

    async def mark_unreachable(self, participant_id: str, reason: str) -> None:
        """The channel says she cannot be reached (21610 opted out, invalid number, blocked).

        One transaction, once only: status, unsent messages cancelled, open session ended,
        whatever can still be deleted from her chat queued, a ROUTINE escalation.
        'opted_out' has the effect of a carrier STOP; only staff re-activate her. A paused
        participant (safe word) stays paused.
        """
        now = self.clock.now()
        status = (
            ParticipantStatus.OPTED_OUT if reason == "opted_out" else ParticipantStatus.UNREACHABLE
        )
        outcome = Outcome(status)
        async with self.db.transaction() as tx:
            participant = await self.participants.get(participant_id)
            if participant.status != ParticipantStatus.ACTIVE:
                return
            stored = await self.sessions.current(participant_id)
            await self.participants.set_status(tx, participant_id, status, reason, now)
            if stored is not None and stored.state.phase != Phase.ENDED:
                ended = stored.state.evolve(phase=Phase.ENDED, outcome=outcome)
                await self.sessions.save(tx, participant_id, ended, now, stored.id)
                await tps.update(
                    tx,
                    participant_id,
                    ended.timepoint,
                    state=TimepointState(status),
                    ended_at=iso(now),
                )
            await raise_escalation(
                tx,
                self.ring,
                level="ROUTINE",
                reasons=("opted_out",)
                if status == ParticipantStatus.OPTED_OUT
                else ("unreachable", reason),
                now=now,
                participant_id=participant_id,
                programme_id=participant.programme_id,
                pseudonym=participant.pseudonym,
                session_id=stored.id if stored else None,
                timepoint=stored.state.timepoint if stored else None,
                hooks=self.escalation_hooks,
            )
            await audit(tx, now, "channel", status, participant.pseudonym, reason)
            await self._delete(tx, participant, stored.id if stored else None, "unreachable", now)
            self.db.after_commit(self.on_outbox)
        log.info("participant %s: %s (%s)", participant.pseudonym, status, reason)

    # --- the step -------------------------------------------------------------

    async def _programme(self, programme_id: int) -> Programme:
        """Programme details change rarely (and from other processes): cached for a minute."""
        now = time.monotonic()
        cached = self._programme_cache.get(programme_id)
        if cached is None or now - cached[0] > PROGRAMME_CACHE_SECONDS:
            cached = (now, await self.programmes.get(programme_id))
            self._programme_cache[programme_id] = cached
        return cached[1]

    def context_for(self, participant: Participant) -> Context:
        return Context(
            secrets=participant.secrets(self.ring),
            lexicon=lexicon_for(participant.language),
            free_text=self.config.survey.free_text,
            decoy=self.config.safety.decoy_reply,
            status=ParticipantStatus(participant.status),
        )

    async def _run(
        self,
        tx: Transaction,
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
        programme = programme or await self._programme(participant.programme_id)
        facts = StepFacts(
            tx, participant, programme, session_id, new_state, now, priority, contact,
            snooze_of(self, participant, programme, effects, now),
        )  # fmt: skip
        await apply_effects(self, facts, effects, report)
        if any(isinstance(e, Send | DeleteTranscript) for e in effects):
            self.db.after_commit(self.on_outbox)
        return report

    async def delete_chat(
        self, tx: Transaction, participant: Participant, reason: str, now: datetime
    ) -> bool:
        """Queue deletion of every message of her chat that can still be deleted."""
        if participant.address(self.ring) is None:
            return False
        if not await has_deletable_message(tx, participant.id, now):
            return False
        await self._delete(tx, participant, None, reason, now)
        self.db.after_commit(self.on_outbox)
        return True

    async def _delete(
        self,
        tx: Transaction,
        participant: Participant,
        session_id: str | None,
        reason: str,
        now: datetime,
    ) -> None:
        await enqueue_deletion(
            tx, self.outbox, self.ring, self.config, participant, session_id, reason, now
        )
