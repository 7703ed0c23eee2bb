"""The 47-hour guarantee: Telegram cannot delete a message after 48 h, so never wait that long.

Session ends and the safe word delete her chat at once; this sweep catches
the rest (abandoned sessions, a decoy line, messages sent while she was
paused). Every minute it queues a deletion for each participant with a
reference whose deadline (sent + 47 h) falls within the next hour. The rows
have their own lane, so a stuck message can never hold a deletion back, and a
dedupe key, so a sweep never queues the same work twice.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.clock import iso
from bot.session.service import FollowupService
from bot.store.outbox import PRIORITY_URGENT

log = logging.getLogger(__name__)

HORIZON = timedelta(hours=1)


async def sweep_deletions(service: FollowupService, channel: str = "telegram") -> int:
    """Queue deletions due within the horizon; returns how many new rows were written."""
    now = service.clock.now()
    before = now + HORIZON
    queued = 0
    for participant_id, oldest in await service.transcript.oldest_due(channel, before):
        participant = await service.participants.get(participant_id)
        address = participant.address(service.ring)
        if address is None or participant.channel != channel:
            continue
        async with service.db.transaction() as tx:
            row = await service.outbox.enqueue(
                tx,
                lane=f"sweep:{participant_id}",
                channel=channel,
                kind="delete",
                priority=PRIORITY_URGENT,
                payload={"address": address, "reason": "deadline", "due_before": iso(before)},
                now=now,
                participant_id=participant_id,
                dedupe_key=f"sweep47:{participant_id}:{oldest}",
            )
        queued += row is not None
    if queued:
        log.info("deadline sweep queued %d deletion(s)", queued)
        service.on_outbox()
    return queued
