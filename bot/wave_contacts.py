"""Open a chunk of a wave's contacts in one transaction, with one statement per table.

``FollowupService.begin_contacts`` (the sweep's path) calls ``open_chunk``: the engine
decides each opener or reminder as usual, the rows are built in memory, and
``bot.store.contact_batch.write_contacts`` writes them together. It raises
``DuplicateContact`` or ``NotBatchable`` (rolling the chunk back, nothing written)
when the chunk must be made contact by contact instead.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from bot.channels.base import CHANNEL_STYLES
from bot.i18n import Translator
from bot.render import ProgrammeWords, render
from bot.store.consent import consented_among
from bot.store.contact_batch import ContactRows, DuplicateContact, write_contacts
from bot.store.outbox import PRIORITY_LIVE, PRIORITY_WAVE
from bot.store.participants import Participant, Programme
from conversations.effects import Effect, Outgoing, Send
from conversations.engine import step
from conversations.events import Begin
from conversations.state import SessionState

if TYPE_CHECKING:
    from bot.service import ContactRequest, FollowupService

log = logging.getLogger(__name__)

Opened = tuple[Participant, SessionState, list[Effect]]
"""What the engine did for one contact (the service wraps it in a ``StepReport``)."""


class NotBatchable(Exception):
    """The engine answered a Begin with an effect other than an opener or reminder: the
    chunk is rolled back and made one by one through the service's general path."""


async def open_chunk(
    service: FollowupService, requests: Sequence[ContactRequest]
) -> list[Opened | None]:
    """Open these contacts in ONE transaction; None for a partner who is not active, has no
    consent on record, or whose dedupe key is used (checked under the write lock)."""
    from bot.service import lane_of  # bot.service imports this module

    pairs = [(r.participant_id, r.timepoint) for r in requests]
    if len(set(pairs)) != len(pairs):
        raise DuplicateContact("a partner's timepoint twice in one chunk")
    now = service.clock.now()
    rows = ContactRows()
    opened: list[Opened | None] = []
    async with service.db.transaction() as tx:
        ids = [pid for pid, _ in pairs]
        people = await service.participants.many(ids)
        consented = await consented_among(tx, ids)
        sessions = await service.sessions.for_pairs(pairs)
        used = await service.outbox.used_keys([r.dedupe_key for r in requests if r.dedupe_key])
        await tx.executemany(
            "INSERT OR IGNORE INTO timepoints (participant_id, timepoint) VALUES (?, ?)", pairs
        )
        programmes: dict[int, Programme] = {}
        renderer = _Renderer()
        for request in requests:
            participant = people.get(request.participant_id)
            if participant is None:
                raise LookupError(f"no participant {request.participant_id}")
            if participant.status != "active" or request.dedupe_key in used:
                opened.append(None)
                continue
            if participant.id not in consented:  # no contact ever without consent
                log.warning("no consent recorded for %s; no contact made", participant.pseudonym)
                opened.append(None)
                continue
            if participant.programme_id not in programmes:
                programme = await service.programmes.get(participant.programme_id)
                programmes[participant.programme_id] = programme
            stored = sessions.get((request.participant_id, request.timepoint))
            state = stored.state if stored else SessionState(request.timepoint)
            ctx = service.context_for(participant)
            new_state, effects = step(service.survey, state, Begin(request.reminder), now, ctx)
            session_id, session_row = service.sessions.row(
                participant.id, new_state, now, stored.id if stored else None
            )
            rows.sessions.append(session_row)
            for effect in effects:
                if not isinstance(effect, Send) or effect.message.kind not in (
                    "opener",
                    "reminder",
                ):
                    raise NotBatchable(type(effect).__name__)
                row = _outbox_row(
                    service, participant, programmes[participant.programme_id],
                    Target(lane_of(participant.id), session_id, now, renderer), effect, request,
                )  # fmt: skip
                if row is not None:
                    rows.outbox.append(row)
            if new_state.phase == "gate":
                rows.marks.append((participant.id, request.timepoint, request.reminder))
            opened.append((participant, new_state, effects))
        await write_contacts(tx, rows, now, service.sessions, service.outbox)
        if rows.outbox:
            service.db.after_commit(service.on_outbox)
    return opened


class Target(NamedTuple):
    lane: str
    session_id: str
    now: datetime
    renderer: _Renderer


def _outbox_row(
    service: FollowupService,
    participant: Participant,
    programme: Programme,
    target: Target,
    effect: Send,
    request: ContactRequest,
) -> tuple[object, ...] | None:
    """The outbox row of one opener or reminder (as ``FollowupService._enqueue_send``)."""
    address = participant.address(service.ring)
    if address is None:
        log.warning("participant %s has no address yet; message dropped", participant.pseudonym)
        return None
    words = ProgrammeWords(
        programme.sender_name,
        programme.emergency_number,
        programme.helpline or programme.emergency_number,
    )
    style = CHANNEL_STYLES.get(participant.channel, "numbered")
    rendered = target.renderer(effect.message, style, participant.language, words)
    return service.outbox.row(
        lane=target.lane,
        channel=participant.channel,
        kind="message",
        priority=PRIORITY_WAVE if request.wave else PRIORITY_LIVE,
        payload={"address": address, "message": rendered},
        now=target.now,
        participant_id=participant.id,
        session_id=target.session_id,
        dedupe_key=request.dedupe_key,
        not_after=request.not_after,
    )


class _Renderer:
    """A wave's openers differ only in address: render each (message, style, language,
    programme) once per chunk. The payload is serialised at once, so sharing it is safe."""

    def __init__(self) -> None:
        self._done: dict[tuple[object, ...], dict[str, Any]] = {}

    def __call__(
        self, message: Outgoing, style: str, language: str, words: ProgrammeWords
    ) -> dict[str, Any]:
        if any(line.params for line in message.lines):  # dicts: not a key, and rare here
            return render(message, style, Translator(language), words).to_json()
        key = (
            message.kind, tuple(line.msgid for line in message.lines), message.choices,
            message.answer, message.item_id, message.scale, message.sensitive,
            style, language, words,
        )  # fmt: skip
        if key not in self._done:
            self._done[key] = render(message, style, Translator(language), words).to_json()
        return self._done[key]
