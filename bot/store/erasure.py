"""The statements of her withdrawal and erasure, each a step inside the caller's transaction.

``bot.datarights.core`` decides what happens and in which order; these only say how it is
written. None of them commits: a withdrawal or an erasure is one transaction, all or nothing.
Tombstones (nameless rows of erased women) go once deleting her chat is done or too late.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.clock import iso
from bot.store.db import Database, Transaction


@dataclass(frozen=True)
class SentStaffMessage:
    """A staff notification no longer waiting to go out; its payload may name her."""

    id: int
    lane: str
    payload_enc: bytes


async def mark_withdrawn(tx: Transaction, participant_id: str, actor: str, now: datetime) -> None:
    await tx.execute(
        "UPDATE participants SET status = 'withdrawn', status_reason = ?, withdrawn_at = ?,"
        " updated_at = ? WHERE id = ?",
        (actor, iso(now), iso(now), participant_id),
    )


async def cancel_pending_messages(tx: Transaction, lane: str) -> None:
    """Messages of her lane not sent yet never go (deletions of her chat still do)."""
    await tx.execute(
        "UPDATE outbox SET state = 'cancelled' WHERE lane = ? AND state = 'pending'"
        " AND kind = 'message'",
        (lane,),
    )


async def delete_enrol_tokens(tx: Transaction, participant_id: str) -> None:
    await tx.execute("DELETE FROM enrol_tokens WHERE participant_id = ?", (participant_id,))


async def has_live_data(tx: Transaction, participant_id: str) -> bool:
    """Timepoints, answers or sessions still under her id (none left after a withdrawal)."""
    for table in ("timepoints", "answers", "sessions"):
        cur = await tx.execute(
            f"SELECT 1 FROM {table} WHERE participant_id = ? LIMIT 1", (participant_id,)
        )
        if await cur.fetchone():
            return True
    return False


async def delete_links_and_consents(tx: Transaction, participant_id: str) -> None:
    for table in ("enrol_tokens", "consents"):
        await tx.execute(f"DELETE FROM {table} WHERE participant_id = ?", (participant_id,))


async def delete_outbox_except_chat_deletion(tx: Transaction, participant_id: str) -> None:
    """Her outbox rows go, except deletions of her chat still to be done."""
    await tx.execute(
        "DELETE FROM outbox WHERE participant_id = ? AND NOT (kind = 'delete'"
        " AND state IN ('pending', 'sending'))",
        (participant_id,),
    )


async def delete_finished_transcript(tx: Transaction, participant_id: str, now: datetime) -> None:
    """References to messages already deleted, or past deleting, are no use any more."""
    await tx.execute(
        "DELETE FROM transcript WHERE participant_id = ? AND (deleted_at IS NOT NULL"
        " OR delete_by <= ?)",
        (participant_id, iso(now)),
    )


async def sent_staff_messages(tx: Transaction) -> list[SentStaffMessage]:
    rows = await (
        await tx.execute(
            "SELECT id, lane, payload_enc FROM outbox WHERE participant_id IS NULL"
            " AND state NOT IN ('pending', 'sending')"
        )
    ).fetchall()
    return [SentStaffMessage(r[0], r[1], r[2]) for r in rows]


async def delete_outbox_rows(tx: Transaction, row_ids: list[int]) -> None:
    await tx.executemany("DELETE FROM outbox WHERE id = ?", [(i,) for i in row_ids])


async def unlink_escalations(tx: Transaction, participant_id: str) -> None:
    """Escalations stay for the support service and the statistics, without her."""
    await tx.execute(
        "UPDATE escalations SET participant_id = NULL, session_id = NULL WHERE participant_id = ?",
        (participant_id,),
    )


async def rename_in_audit_log(tx: Transaction, pseudonym: str, tombstone: str) -> None:
    """Earlier audit entries about her say ``tombstone`` instead of her pseudonym."""
    await tx.execute("UPDATE audit_log SET subject = ? WHERE subject = ?", (tombstone, pseudonym))
    await tx.execute(
        "UPDATE audit_log SET detail = replace(detail, ?, ?) WHERE instr(detail, ?) > 0",
        (pseudonym, tombstone, pseudonym),
    )


async def blank_participant(
    tx: Transaction, participant_id: str, nameless_pseudonym: str, now: datetime
) -> None:
    """Her row keeps only its id (for deleting her chat) under a random, meaningless name."""
    await tx.execute(
        "UPDATE participants SET pseudonym = ?, address_idx = NULL, address_enc = NULL,"
        " windows_enc = NULL, safe_hash = NULL, code_hash = NULL, duress_hash = NULL,"
        " safe_kid = NULL, code_kid = NULL, duress_kid = NULL, research_enc = NULL,"
        " status = 'erased', status_reason = NULL, opted_in_again_at = NULL, language = 'en',"
        " timezone = 'UTC', enrolled_on = '', start_on = NULL, end_on = NULL, dropout_on = NULL,"
        " completed_on = NULL, withdrawn_at = NULL, contact_deleted_at = NULL, erased_at = ?,"
        " created_at = ?, updated_at = ? WHERE id = ?",
        (nameless_pseudonym, iso(now), iso(now), iso(now), participant_id),
    )


_PURGEABLE = (
    "status = 'erased' AND ((NOT EXISTS (SELECT 1 FROM outbox o WHERE"
    " o.participant_id = participants.id AND o.state IN ('pending', 'sending'))"
    " AND NOT EXISTS (SELECT 1 FROM transcript t WHERE t.participant_id = participants.id"
    " AND t.deleted_at IS NULL AND t.delete_by > ?)) OR erased_at < ?)"
)


async def count_purgeable_tombstones(db: Database, now: datetime, erased_before: datetime) -> int:
    """Tombstones whose chat deletion is done, or that were erased before ``erased_before``."""
    row = await db.fetchone(
        f"SELECT COUNT(*) FROM participants WHERE {_PURGEABLE}", (iso(now), iso(erased_before))
    )
    return int(row[0]) if row else 0


async def purge_tombstones(db: Database, now: datetime, erased_before: datetime) -> int:
    """Delete what ``count_purgeable_tombstones`` counts, in a transaction of its own."""
    async with db.transaction() as tx:
        cur = await tx.execute(
            f"DELETE FROM participants WHERE {_PURGEABLE}", (iso(now), iso(erased_before))
        )
        return cur.rowcount


async def fold_wal(db: Database) -> None:
    """Old page images in the WAL would still hold deleted rows: fold them in and truncate
    (SQLite; best effort: a reader in another process can keep part of the WAL alive)."""
    await db.fold_wal()
