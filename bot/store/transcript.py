"""References to every message of her chats, both directions, until they are deleted.

Only provider ids are kept (sealed), never bodies. Telegram cannot delete a
message after 48 h, so every reference carries a ``delete_by`` deadline. A
blind index of the id lets a provider callback (SMS status) find its row;
``deleted_at`` says the message is gone from the chat (Telegram) or from the
provider's log (SMS).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import iso
from bot.crypto import KeyRing
from bot.store.db import Database, Row, Transaction

DELETE_WITHIN = timedelta(hours=47)


@dataclass(frozen=True)
class TranscriptRef:
    id: int
    participant_id: str
    channel: str
    direction: str
    ref: str


def _aad(participant_id: str) -> str:
    return f"transcript:ref:{participant_id}"


def _purpose(channel: str) -> str:
    return f"transcript:{channel}"


class Transcript:
    def __init__(self, db: Database, ring: KeyRing) -> None:
        self.db = db
        self.ring = ring

    async def record(
        self,
        tx: Transaction,
        *,
        participant_id: str,
        session_id: str | None,
        channel: str,
        direction: str,
        ref: str,
        now: datetime,
    ) -> None:
        await tx.execute(
            "INSERT INTO transcript (participant_id, session_id, channel, direction, ref_enc, at,"
            " delete_by, ref_idx) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                participant_id,
                session_id,
                channel,
                direction,
                self.ring.seal_text(ref, _aad(participant_id)),
                iso(now),
                iso(now + DELETE_WITHIN),
                self.ring.blind_index(_purpose(channel), ref),
            ),
        )

    async def find(self, channel: str, ref: str) -> TranscriptRef | None:
        """The reference row for one provider id on ``channel`` (any key of the ring)."""
        keys = self.ring.blind_indexes(_purpose(channel), ref)
        marks = ",".join("?" * len(keys))
        row = await self.db.fetchone(
            f"SELECT * FROM transcript WHERE channel = ? AND ref_idx IN ({marks}) LIMIT 1",
            (channel, *keys),
        )
        return self._ref(row) if row else None

    async def mark_ref_deleted(self, tx: Transaction, channel: str, ref: str, now: datetime) -> int:
        """Mark one provider id gone; returns how many rows it matched (0: not recorded)."""
        keys = self.ring.blind_indexes(_purpose(channel), ref)
        marks = ",".join("?" * len(keys))
        cur = await tx.execute(
            f"UPDATE transcript SET deleted_at = COALESCE(deleted_at, ?)"
            f" WHERE channel = ? AND ref_idx IN ({marks})",
            (iso(now), channel, *keys),
        )
        return cur.rowcount

    async def undeleted_on(self, channel: str) -> list[TranscriptRef]:
        """Every reference on ``channel`` not yet gone (the daily provider-log sweep)."""
        rows = await self.db.fetchall(
            "SELECT * FROM transcript WHERE channel = ? AND deleted_at IS NULL ORDER BY id",
            (channel,),
        )
        return [self._ref(r) for r in rows]

    def _ref(self, r: Row) -> TranscriptRef:
        return TranscriptRef(
            r["id"],
            r["participant_id"],
            r["channel"],
            r["direction"],
            self.ring.open_text(r["ref_enc"], _aad(r["participant_id"])),
        )

    async def undeleted(
        self, participant_id: str, due_before: datetime | None = None
    ) -> list[TranscriptRef]:
        """Her refs not yet deleted; with ``due_before`` only those whose deadline comes first."""
        due = " AND delete_by <= ?" if due_before is not None else ""
        rows = await self.db.fetchall(
            "SELECT * FROM transcript WHERE participant_id = ? AND deleted_at IS NULL"
            + due
            + " ORDER BY id",
            (participant_id, *((iso(due_before),) if due_before is not None else ())),
        )
        return [self._ref(r) for r in rows]

    async def mark_deleted(self, tx: Transaction, ids: list[int], now: datetime) -> None:
        await tx.executemany(
            "UPDATE transcript SET deleted_at = ? WHERE id = ?", [(iso(now), i) for i in ids]
        )

    async def oldest_due(self, channel: str, before: datetime) -> list[tuple[str, int]]:
        """(participant, id of her oldest undeleted ref) for refs on ``channel`` due before then."""
        rows = await self.db.fetchall(
            "SELECT participant_id, MIN(id) FROM transcript WHERE deleted_at IS NULL"
            " AND channel = ? AND delete_by <= ? GROUP BY participant_id",
            (channel, iso(before)),
        )
        return [(str(r[0]), int(r[1])) for r in rows]

    async def participants_due(self, before: datetime) -> list[str]:
        """Participants with a reference whose deadline falls before ``before``."""
        rows = await self.db.fetchall(
            "SELECT DISTINCT participant_id FROM transcript"
            " WHERE deleted_at IS NULL AND delete_by <= ?",
            (iso(before),),
        )
        return [r[0] for r in rows]
