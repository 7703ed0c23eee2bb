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
from collections.abc import Callable
from datetime import timedelta

from bot.clock import iso
from bot.store.outbox import PRIORITY_LIVE
from bot.store.stores import Stores

log = logging.getLogger(__name__)

HORIZON = timedelta(hours=1)


async def sweep_deletions(
    stores: Stores, wake: Callable[[], None], channel: str = "telegram"
) -> int:
    """Queue deletions due within the horizon, then ``wake`` the dispatcher (after commit)
    if any was queued; returns how many new rows were written."""
    now = stores.clock.now()
    before = now + HORIZON
    queued = 0
    for participant_id, oldest in await stores.transcript.oldest_due(channel, before):
        participant = await stores.participants.get(participant_id)
        address = participant.address(stores.ring)
        if address is None or participant.channel != channel:
            continue
        async with stores.db.transaction() as tx:
            row = await stores.outbox.enqueue(
                tx,
                lane=f"sweep:{participant_id}",
                channel=channel,
                kind="delete",
                priority=PRIORITY_LIVE,  # after live replies, before any wave
                payload={"address": address, "reason": "deadline", "due_before": iso(before)},
                now=now,
                participant_id=participant_id,
                dedupe_key=f"sweep47:{participant_id}:{oldest}",
            )
        queued += row is not None
    if queued:
        log.info("deadline sweep queued %d deletion(s)", queued)
        wake()
    return queued
