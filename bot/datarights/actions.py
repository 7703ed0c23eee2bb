"""Withdrawal and erasure as whole operations (one transaction each), for CLI and service."""

from __future__ import annotations

from dataclasses import dataclass

from bot.datarights.core import erase_in_tx, purge_erased, withdraw_in_tx, withdrawal_policy
from bot.session.contacts import lane_of
from bot.session.service import FollowupService
from bot.store.participants import Participant


@dataclass(frozen=True)
class Erasure:
    answers: str
    """"erased" or "kept anonymous"."""
    chat_deletion_queued: bool
    """Messages on her phone are being deleted; her nameless tombstone goes afterwards."""
    purged: bool


async def withdraw(service: FollowupService, participant: Participant, actor: str) -> str:
    """End all contact for good and apply her programme's policy; returns the policy."""
    now = service.clock.now()
    programme = await service.programmes.get(participant.programme_id)
    async with service.db.transaction() as tx:
        await service.delete_chat(tx, participant, "withdrawn", now)
        return await withdraw_in_tx(
            tx, service.ring, participant, programme, now, actor=actor, lane=lane_of(participant.id)
        )


async def erase(
    service: FollowupService, participant: Participant, actor: str, *, all_answers: bool = False
) -> Erasure:
    """Erase her: contact details, secrets, tokens, sessions, messages, answers per policy.

    ``all_answers`` erases her answers even where the programme keeps them anonymously.
    """
    now = service.clock.now()
    programme = await service.programmes.get(participant.programme_id)
    keep = withdrawal_policy(programme) == "keep_anonymous" and not all_answers
    async with service.db.transaction() as tx:
        queued = await service.delete_chat(tx, participant, "erased", now)
        await erase_in_tx(
            tx,
            service.ring,
            participant,
            programme,
            now,
            actor=actor,
            lane=lane_of(participant.id),
            keep_answers=keep,
        )
    purged = await purge_erased(service.db, now) > 0 and not queued
    answers = "kept anonymous" if keep else "erased"
    if participant.status == "withdrawn":
        answers = "already handled when she withdrew"
    return Erasure(answers, queued, purged)
