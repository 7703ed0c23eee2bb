"""One-time Telegram enrolment tokens: 192 random bits, stored only as a blind index.

A token links exactly one chat to one participant, once, before it expires.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import aiosqlite

from bot.clock import iso, parse_iso
from bot.crypto import KeyRing
from bot.store.db import Database

PURPOSE = "enrol-token"


def new_token() -> str:
    """URL- and Telegram-safe (A-Z a-z 0-9 _ -), 32 characters, 192 bits."""
    return secrets.token_urlsafe(24)


async def store_token(
    tx: aiosqlite.Connection,
    ring: KeyRing,
    participant_id: str,
    token: str,
    now: datetime,
    valid_for: timedelta,
) -> None:
    await tx.execute(
        "INSERT INTO enrol_tokens (token_idx, participant_id, expires_at) VALUES (?, ?, ?)",
        (ring.blind_index(PURPOSE, token), participant_id, iso(now + valid_for)),
    )


async def redeem_token(
    tx: aiosqlite.Connection, db: Database, ring: KeyRing, token: str, now: datetime
) -> str | None:
    """Mark the token used and return its participant id; None if unknown, used or expired."""
    if not token or len(token) > 64:
        return None
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
