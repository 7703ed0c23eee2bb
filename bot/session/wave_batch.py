"""Open a chunk of a wave's contacts in one transaction, with one statement per table.

``FollowupService.begin_contacts`` (the sweep's path) calls ``open_chunk``: the engine
decides each opener or reminder as usual, the rows are built in memory, and
``bot.store.contact_batch.write_contacts`` writes them together. It raises
``DuplicateContact`` or ``NotBatchable`` (rolling the chunk back, nothing written)
when the chunk must be made contact by contact instead.

``prepare_chunk`` builds the next chunk's rows from a snapshot read (one hand-off, no write
lock) while the database thread still writes the one before; ``open_chunk`` writes them as
built only if the gate it reads again under the lock, and the active key, are unchanged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bot.channels.base import CHANNEL_STYLES
from bot.clock import Clock
from bot.crypto import KeyRing
from bot.schedule.contact_request import ContactRequest
from bot.session.contacts import Pair, contactable, gate_of
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


#: While a prepared chunk is built on the loop, a live reply gets a turn this often.
YIELD_EVERY = 50

Gate = tuple[list[Participant | None], dict[Pair, StoredSession]]


@dataclass(frozen=True)
class Prepared:
    """A chunk built outside the write lock, and what it was built from."""

    requests: tuple[ContactRequest, ...]
    gate: Gate
    key_id: str
    chunk: _Chunk
    opened: list[Opened | None]


async def prepare_chunk(service: BatchHost, requests: Sequence[ContactRequest]) -> Prepared:
    """Build a chunk from a snapshot read (one hand-off, no write lock): run while the
    database thread writes the chunk before it."""
    _no_repeats(requests)
    gate = await service.db.read(
        lambda reads: gate_of(
            reads, service.participants, service.sessions, service.outbox, requests
        )
    )
    chunk = _Chunk(service)
    key_id = service.ring.active
    opened = await chunk.build(requests, gate, pause_every=YIELD_EVERY)
    return Prepared(tuple(requests), gate, key_id, chunk, opened)


async def open_chunk(
    service: BatchHost, requests: Sequence[ContactRequest], prepared: Prepared | None = None
) -> list[Opened | None]:
    """Open these contacts in ONE transaction; None for a partner who is not active, has no
    consent on record, or whose dedupe key is used (checked under the write lock).

    ``prepared`` rows are written as built when, under the lock, the gate reads the same
    and the active key is the one they were sealed with; otherwise they are built again.
    """
    _no_repeats(requests)

    async def whole(tx: Transaction) -> list[Opened | None]:
        gate = await contactable(
            tx, service.participants, service.sessions, service.outbox, requests
        )
        if (
            prepared is not None
            and prepared.requests == tuple(requests)
            and prepared.key_id == service.ring.active
            and prepared.gate == gate
        ):
            chunk, opened = prepared.chunk, prepared.opened
        else:
            chunk = _Chunk(service)
            opened = await chunk.build(requests, gate)
        await write_contacts(tx, chunk.rows, chunk.now, service.sessions, service.outbox)
        if chunk.rows.outbox:
            service.db.after_commit(service.on_outbox)
        return opened

    return await service.db.run(whole)  # one hand-off to the database thread per chunk


def _no_repeats(requests: Sequence[ContactRequest]) -> None:
    pairs = [(r.participant_id, r.timepoint) for r in requests]
    if len(set(pairs)) != len(pairs):
        raise DuplicateContact("a partner's timepoint twice in one chunk")


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

    async def build(
        self, requests: Sequence[ContactRequest], gate: Gate, pause_every: int = 0
    ) -> list[Opened | None]:
        """Every request's rows; ``pause_every`` > 0 yields to the loop that often (only
        outside a transaction: a ``Database.run`` body must never wait)."""
        people, sessions = gate
        opened: list[Opened | None] = []
        for n, (request, participant) in enumerate(zip(requests, people, strict=True)):
            if participant is None:
                opened.append(None)
                continue
            if pause_every and n % pause_every == pause_every - 1:
                await asyncio.sleep(0)
            stored = sessions.get((request.participant_id, request.timepoint))
            opened.append(await self.add(participant, request, stored))
        return opened

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
                payload={"address": address, "message": await self._render(participant, message)},
                now=self.now,
                participant_id=participant.id,
                session_id=session_id,
                dedupe_key=request.dedupe_key,
                not_after=request.not_after,
            )
        )

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
