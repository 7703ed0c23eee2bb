"""Withdrawal and erasure as whole operations (one transaction each), for CLI and service.

They take the stores and the one service step they need, deleting her chat (which wakes the
dispatcher after commit), never the service itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from bot.datarights.core import erase_in_tx, purge_erased, withdraw_in_tx, withdrawal_policy
from bot.store.db import Transaction
from bot.store.outbox import lane_of
from bot.store.participants import Participant
from bot.store.stores import Stores
from conversations.vocabulary import ParticipantStatus

#: Queues deletion of her chat inside the transaction (participant, reason, now); True if
#: something is left to delete. ``FollowupService.delete_chat`` is the one there is.
DeleteChat = Callable[[Transaction, Participant, str, datetime], Awaitable[bool]]


@dataclass(frozen=True)
class Erasure:
    answers: str
    """"erased" or "kept anonymous"."""
    chat_deletion_queued: bool
    """Messages on her phone are being deleted; her nameless tombstone goes afterwards."""
    purged: bool


async def withdraw(
    stores: Stores, delete_chat: DeleteChat, participant: Participant, actor: str
) -> str:
    """End all contact for good and apply her programme's policy; returns the policy."""
    now = stores.clock.now()
    programme = await stores.programmes.get(participant.programme_id)
    async with stores.db.transaction() as tx:
        await delete_chat(tx, participant, "withdrawn", now)
        return await withdraw_in_tx(
            tx, stores.ring, participant, programme, now, actor=actor, lane=lane_of(participant.id)
        )


async def erase(
    stores: Stores,
    delete_chat: DeleteChat,
    participant: Participant,
    actor: str,
    *,
    all_answers: bool = False,
) -> Erasure:
    """Erase her: contact details, secrets, tokens, sessions, messages, answers per policy.

    ``all_answers`` erases her answers even where the programme keeps them anonymously.
    """
    now = stores.clock.now()
    programme = await stores.programmes.get(participant.programme_id)
    keep = withdrawal_policy(programme) == "keep_anonymous" and not all_answers
    async with stores.db.transaction() as tx:
        queued = await delete_chat(tx, participant, "erased", now)
        await erase_in_tx(
            tx,
            stores.ring,
            participant,
            programme,
            now,
            actor=actor,
            lane=lane_of(participant.id),
            keep_answers=keep,
        )
    purged = await purge_erased(stores.db, now) > 0 and not queued
    answers = "kept anonymous" if keep else "erased"
    if participant.status == ParticipantStatus.WITHDRAWN:
        answers = "already handled when she withdrew"
    return Erasure(answers, queued, purged)
