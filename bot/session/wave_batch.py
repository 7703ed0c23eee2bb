"""Open a chunk of a wave's contacts in one transaction, with one statement per table.

``FollowupService.begin_contacts`` (the sweep's path) calls ``open_chunk``: the engine
decides each opener or reminder as usual, the rows are built in memory, and
``bot.store.contact_batch.write_contacts`` writes them together. It raises
``DuplicateContact`` or ``NotBatchable`` (rolling the chunk back, nothing written)
when the chunk must be made contact by contact instead.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from bot.channels.base import CHANNEL_STYLES
from bot.clock import Clock
from bot.crypto import KeyRing
from bot.schedule.contact_request import ContactRequest
from bot.session.contacts import contactable
from bot.session.outgoing import programme_words
from bot.store.contact_batch import ContactRows, DuplicateContact, write_contacts
from bot.store.db import Database, Transaction
from bot.store.outbox import PRIORITY_LIVE, PRIORITY_WAVE, Outbox, lane_of
from bot.store.participants import Participant, Participants, Programme, Programmes
from bot.store.sessions import Sessions, StoredSession
from bot.text.i18n import Translator
from bot.text.render import render
from conversations.effects import Effect, Outgoing, Send
from conversations.engine import Context, step
from conversations.events import Begin
from conversations.state import SessionState
from conversations.survey import Survey
from conversations.vocabulary import SCHEDULED_KINDS, Phase

log = logging.getLogger(__name__)

Opened = tuple[Participant, SessionState, list[Effect]]
"""What the engine did for one contact (the service wraps it in a ``StepReport``)."""


class BatchHost(Protocol):
    """What a chunk uses of the service (``FollowupService`` is one): its stores and the
    engine's context, nothing more."""

    db: Database
    ring: KeyRing
    clock: Clock
    survey: Survey
    participants: Participants
    programmes: Programmes
    sessions: Sessions
    outbox: Outbox
    on_outbox: Callable[[], None]

    def context_for(self, participant: Participant) -> Context: ...


class NotBatchable(Exception):
    """The engine answered a Begin with an effect other than an opener or reminder: the
    chunk is rolled back and made one by one through the service's general path."""


async def open_chunk(service: BatchHost, requests: Sequence[ContactRequest]) -> list[Opened | None]:
    """Open these contacts in ONE transaction; None for a partner who is not active, has no
    consent on record, or whose dedupe key is used (checked under the write lock)."""
    pairs = [(r.participant_id, r.timepoint) for r in requests]
    if len(set(pairs)) != len(pairs):
        raise DuplicateContact("a partner's timepoint twice in one chunk")
    chunk = _Chunk(service)

    async def whole(tx: Transaction) -> list[Opened | None]:
        gate, sessions = await contactable(
            tx, service.participants, service.sessions, service.outbox, requests
        )
        opened: list[Opened | None] = []
        for request, participant in zip(requests, gate, strict=True):
            if participant is None:
                opened.append(None)
                continue
            stored = sessions.get((request.participant_id, request.timepoint))
            opened.append(await chunk.add(participant, request, stored))
        await write_contacts(tx, chunk.rows, chunk.now, service.sessions, service.outbox)
        if chunk.rows.outbox:
            service.db.after_commit(service.on_outbox)
        return opened

    return await service.db.run(whole)  # one hand-off to the database thread per chunk


class _Chunk:
    """The rows of one chunk, built in memory; openers are rendered once per chunk (a wave's
    differ only in address; the payload is serialised at once, so sharing it is safe)."""

    def __init__(self, service: BatchHost) -> None:
        self.service = service
        self.lane_of = lane_of
        self.now = service.clock.now()
        self.rows = ContactRows()
        self._programmes: dict[int, Programme] = {}
        self._rendered: dict[tuple[object, ...], dict[str, Any]] = {}
        self._serialised: dict[int, tuple[dict[str, Any], str]] = {}  # by id of a rendered dict

    async def add(
        self, participant: Participant, request: ContactRequest, stored: StoredSession | None
    ) -> Opened:
        """The engine's step for her Begin, as rows (``NotBatchable`` if it is not a plain
        opener or reminder)."""
        service = self.service
        state = stored.state if stored else SessionState(request.timepoint)
        ctx = service.context_for(participant)
        new_state, effects = step(service.survey, state, Begin(request.reminder), self.now, ctx)
        session_id, session_row = service.sessions.row(
            participant.id, new_state, self.now, stored.id if stored else None
        )
        self.rows.sessions.append(session_row)
        for effect in effects:
            if not isinstance(effect, Send) or effect.message.kind not in SCHEDULED_KINDS:
                raise NotBatchable(type(effect).__name__)
            await self._outbox_row(participant, session_id, effect.message, request)
        if new_state.phase == Phase.GATE:
            self.rows.marks.append((participant.id, request.timepoint, request.reminder))
        return participant, new_state, effects

    async def _outbox_row(
        self,
        participant: Participant,
        session_id: str,
        message: Outgoing,
        request: ContactRequest,
    ) -> None:
        """The outbox row of one opener or reminder, as ``bot.session.outgoing.enqueue_message``
        writes it (rendered once per chunk, see ``_render``)."""
        address = participant.address(self.service.ring)
        if address is None:
            log.warning("participant %s has no address yet; message dropped", participant.pseudonym)
            return
        self.rows.outbox.append(
            self.service.outbox.row(
                lane=self.lane_of(participant.id),
                channel=participant.channel,
                kind="message",
                priority=PRIORITY_WAVE if request.wave else PRIORITY_LIVE,
                payload={},
                payload_json=await self._payload(address, participant, message),
                now=self.now,
                participant_id=participant.id,
                session_id=session_id,
                dedupe_key=request.dedupe_key,
                not_after=request.not_after,
            )
        )

    async def _payload(self, address: str, participant: Participant, message: Outgoing) -> str:
        """``{"address": ..., "message": ...}`` as JSON, the message serialised once per chunk."""
        rendered = await self._render(participant, message)
        serialised = self._serialised.get(id(rendered))
        if serialised is None or serialised[0] is not rendered:
            serialised = (rendered, json.dumps(rendered))
            self._serialised[id(rendered)] = serialised
        return f'{{"address": {json.dumps(address)}, "message": {serialised[1]}}}'

    async def _render(self, participant: Participant, message: Outgoing) -> dict[str, Any]:
        programme_id = participant.programme_id
        if programme_id not in self._programmes:
            self._programmes[programme_id] = await self.service.programmes.get(programme_id)
        programme = self._programmes[programme_id]
        words = programme_words(programme)
        style = CHANNEL_STYLES.get(participant.channel, "numbered")
        language = participant.language
        if any(line.params for line in message.lines):  # dicts: no key (openers have none)
            return render(message, style, Translator(language), words).to_json()
        lines = tuple(line.msgid for line in message.lines)
        key = (message.kind, lines, message.choices, message.answer, message.item_id,
               message.scale, message.sensitive, style, language, words)  # fmt: skip
        if key not in self._rendered:
            self._rendered[key] = render(message, style, Translator(language), words).to_json()
        return self._rendered[key]
