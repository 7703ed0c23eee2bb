"""When a channel says she cannot be reached: mark her unreachable and tell the WSS (ROUTINE)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.clock import Clock
from bot.service import FollowupService
from bot.store.escalations import raise_escalation
from bot.store.housekeeping import audit


def unreachable_handler(
    service: FollowupService, clock: Clock
) -> Callable[[str, str], Awaitable[None]]:
    """The dispatcher's ``on_unreachable``: one ROUTINE escalation per change to unreachable."""

    async def on_unreachable(participant_id: str, reason: str) -> None:
        participant = await service.participants.get(participant_id)
        if participant.status != "active":  # paused (safe word) stays paused
            return
        now = clock.now()
        async with service.db.transaction() as tx:
            await service.participants.set_status(tx, participant_id, "unreachable", reason, now)
            await audit(tx, now, "system", "participant_unreachable", participant.pseudonym, reason)
            await raise_escalation(
                tx,
                level="ROUTINE",
                reasons=("unreachable",),
                now=now,
                participant_id=participant_id,
                programme_id=participant.programme_id,
                pseudonym=participant.pseudonym,
                hooks=service.escalation_hooks,
            )

    return on_unreachable
