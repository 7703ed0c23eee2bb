"""One-time Telegram enrolment tokens: 192 random bits, stored only as a blind index.

A token links exactly one chat to one participant, once, before it expires; the rows
themselves live in ``bot.store.enrol_tokens``.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from bot.crypto import KeyRing
from bot.store.db import Transaction
from bot.store.enrol_tokens import save_token, use_token

#: Longer than any token we hand out: a longer one is refused before any look-up.
MAX_TOKEN_LENGTH = 64


def new_token() -> str:
    """URL- and Telegram-safe (A-Z a-z 0-9 _ -), 32 characters, 192 bits."""
    return secrets.token_urlsafe(24)


async def store_token(
    tx: Transaction,
    ring: KeyRing,
    participant_id: str,
    token: str,
    now: datetime,
    valid_for: timedelta,
) -> None:
    """Keep the token's blind index until ``now + valid_for``."""
    await save_token(tx, ring, participant_id, token, now + valid_for)


async def redeem_token(tx: Transaction, ring: KeyRing, token: str, now: datetime) -> str | None:
    """Mark the token used and return its participant id; None if unknown, used or expired."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return await use_token(tx, ring, token, now)
