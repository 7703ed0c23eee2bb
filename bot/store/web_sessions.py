"""Server-side dashboard sessions, stored under a hash of the session id only.

A copy of the database cannot be used to log in: the cookie's value is never
written here, only its SHA-256 (computed by the caller, ``bot.web.auth``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.clock import iso, parse_iso
from bot.store.db import Database, Transaction


@dataclass(frozen=True)
class StoredSession:
    staff_id: int
    created_at: datetime
    last_seen: datetime
    csrf: str
    stage: str  # 'totp' | 'totp_setup' | 'full'


class WebSessions:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self, id_hash: bytes, staff_id: int, now: datetime, csrf: str, stage: str
    ) -> None:
        """A new session at ``stage``, seen ``now``, in its own transaction."""
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO web_sessions (id_hash, staff_id, created_at, last_seen, csrf, stage)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (id_hash, staff_id, iso(now), iso(now), csrf, stage),
            )

    async def get(self, id_hash: bytes) -> StoredSession | None:
        row = await self.db.fetchone("SELECT * FROM web_sessions WHERE id_hash = ?", (id_hash,))
        if row is None:
            return None
        return StoredSession(
            row["staff_id"],
            parse_iso(row["created_at"]),
            parse_iso(row["last_seen"]),
            row["csrf"],
            row["stage"],
        )

    async def touch(self, tx: Transaction, id_hash: bytes, now: datetime) -> None:
        await tx.execute(
            "UPDATE web_sessions SET last_seen = ? WHERE id_hash = ?", (iso(now), id_hash)
        )

    async def end(self, tx: Transaction, id_hash: bytes) -> None:
        await tx.execute("DELETE FROM web_sessions WHERE id_hash = ?", (id_hash,))

    async def end_all_of(self, tx: Transaction, staff_id: int) -> None:
        """End every open session of one staff member (password reset, unlock, new factor)."""
        await tx.execute("DELETE FROM web_sessions WHERE staff_id = ?", (staff_id,))
