"""Who of a batch of contacts may be contacted now: one gate for the sweep's batched path
(``bot.session.wave_batch``) and the service's general path, so a rule cannot reach only one."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bot.schedule.contact_request import ContactRequest
from bot.store import timepoints as tps
from bot.store.consent import consented_among
from bot.store.db import Transaction
from bot.store.outbox import Outbox
from bot.store.participants import Participant, Participants
from bot.store.sessions import Sessions, StoredSession
from conversations.vocabulary import ParticipantStatus

log = logging.getLogger(__name__)

Pair = tuple[str, str]


async def contactable(
    tx: Transaction,
    participants: Participants,
    sessions: Sessions,
    outbox: Outbox,
    requests: Sequence[ContactRequest],
) -> tuple[list[Participant | None], dict[Pair, StoredSession]]:
    """Each request's partner, or None when she is not active, its dedupe key was used
    (another sweep got there first) or no consent is on record; with her stored sessions.
    Call it inside the write transaction: that is what makes the checks exact."""
    pairs = [(r.participant_id, r.timepoint) for r in requests]
    ids = [pid for pid, _ in pairs]
    people = await participants.many(ids)
    consented = await consented_among(tx, ids)
    stored = await sessions.for_pairs(pairs)
    used = await outbox.used_keys([r.dedupe_key for r in requests if r.dedupe_key])
    await tps.ensure_many(tx, pairs)
    gate: list[Participant | None] = []
    for request in requests:
        participant = people.get(request.participant_id)
        if participant is None:
            raise LookupError(f"no participant {request.participant_id}")
        if participant.status != ParticipantStatus.ACTIVE or request.dedupe_key in used:
            gate.append(None)
        elif participant.id not in consented:  # no contact ever without consent
            log.warning("no consent recorded for %s; no contact made", participant.pseudonym)
            gate.append(None)
        else:
            gate.append(participant)
    return gate, stored
