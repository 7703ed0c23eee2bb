"""Whether her chat still holds a message that can be deleted (Telegram: before its 47 h).

Read inside the caller's transaction, so a deletion is queued only for what is really there.
"""

from __future__ import annotations

from datetime import datetime

from bot.clock import iso
from bot.store.db import Transaction


async def has_deletable_message(tx: Transaction, participant_id: str, now: datetime) -> bool:
    row = await (
        await tx.execute(
            "SELECT 1 FROM transcript WHERE participant_id = ? AND deleted_at IS NULL"
            " AND delete_by > ? LIMIT 1",
            (participant_id, iso(now)),
        )
    ).fetchone()
    return row is not None
