"""One-time enrolment tokens as rows: only a blind index of the token is ever stored.

A token is redeemed at most once: the row is marked used in the transaction that reads it.
"""

from __future__ import annotations

from datetime import datetime

from bot.clock import iso, parse_iso
from bot.crypto import KeyRing
from bot.store.db import Transaction

PURPOSE = "enrol-token"


async def save_token(
    tx: Transaction, ring: KeyRing, participant_id: str, token: str, expires_at: datetime
) -> None:
    await tx.execute(
        "INSERT INTO enrol_tokens (token_idx, participant_id, expires_at) VALUES (?, ?, ?)",
        (ring.blind_index(PURPOSE, token), participant_id, iso(expires_at)),
    )


async def use_token(tx: Transaction, ring: KeyRing, token: str, now: datetime) -> str | None:
    """Mark the token used and return its participant id; None if unknown, used or expired.

    Any key of the ring finds it, so a rotation never voids a link already handed out.
    """
    indexes = ring.blind_indexes(PURPOSE, token)
    marks = ",".join("?" * len(indexes))
    cur = await tx.execute(
        f"SELECT token_idx, participant_id, expires_at, used_at FROM enrol_tokens"
        f" WHERE token_idx IN ({marks})",
        indexes,
    )
    row = await cur.fetchone()
    if row is None or row["used_at"] is not None or parse_iso(row["expires_at"]) <= now:
        return None
    await tx.execute(
        "UPDATE enrol_tokens SET used_at = ? WHERE token_idx = ?", (iso(now), row["token_idx"])
    )
    return str(row["participant_id"])
