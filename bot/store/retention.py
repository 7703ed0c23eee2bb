"""What retention deletes, said in SQL: finished women's contact details and old records.

The periods are the caller's (``[retention]`` in the config, as ``Cutoffs``); this module
only knows which rows are past them. Counting and deleting share one condition per kind,
so a dry run counts exactly what a run would delete.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.clock import iso
from bot.store.db import Database, Transaction


@dataclass(frozen=True)
class Cutoffs:
    """ISO instants: what ended before them has outlived its period."""

    contact: str
    records: str
    dedupe: str

    def params(self) -> dict[str, str]:
        return {"contact": self.contact, "records": self.records, "dedupe": self.dedupe}


_FINISHED = (
    "status NOT IN ('erased') AND contact_deleted_at IS NULL"
    " AND (address_enc IS NOT NULL OR windows_enc IS NOT NULL OR safe_hash IS NOT NULL"
    "  OR code_hash IS NOT NULL OR duress_hash IS NOT NULL"
    "  OR EXISTS (SELECT 1 FROM enrol_tokens e WHERE e.participant_id = participants.id))"
    " AND ((status = 'withdrawn' AND withdrawn_at < :contact)"
    "  OR (status != 'withdrawn'"
    "   AND EXISTS (SELECT 1 FROM timepoints t WHERE t.participant_id = participants.id"
    "    AND t.timepoint = 'T4' AND t.state IN ('completed', 'missed', 'withdrawn'))"
    "   AND NOT EXISTS (SELECT 1 FROM timepoints t WHERE t.participant_id = participants.id"
    "    AND t.state NOT IN ('completed', 'missed', 'withdrawn', 'cancelled', 'opted_out'))"
    "   AND (SELECT MAX(t.ended_at) FROM timepoints t"
    "    WHERE t.participant_id = participants.id) < :contact))"
)

#: (what, table, condition) for plain deletions.
_PRUNE: tuple[tuple[str, str, str], ...] = (
    ("sessions", "sessions", "phase IN ('ended', 'paused') AND updated_at < :records"),
    (
        "outbox",
        "outbox",
        "state IN ('sent', 'cancelled', 'failed') AND COALESCE(sent_at, created_at) < :records",
    ),
    (
        "transcript",
        "transcript",
        "(deleted_at IS NOT NULL AND deleted_at < :records)"
        " OR (deleted_at IS NULL AND delete_by < :records)",
    ),
    ("inbound_seen", "inbound_seen", "seen_at < :dedupe"),
    ("counters", "counters", "updated_at IS NULL OR updated_at < :records"),
)

#: The kinds of plain records pruned, in the order they are reported.
PRUNED_KINDS = tuple(kind for kind, _table, _where in _PRUNE)


async def count_finished_contacts(db: Database, cutoffs: Cutoffs) -> int:
    """Women whose contact details (and links) are past ``cutoffs.contact``."""
    return await _count(db, "participants", _FINISHED, cutoffs)


async def count_prunable(db: Database, cutoffs: Cutoffs) -> dict[str, int]:
    """Plain records past their cutoff, per kind of ``PRUNED_KINDS``."""
    return {kind: await _count(db, table, where, cutoffs) for kind, table, where in _PRUNE}


async def delete_finished_contacts(tx: Transaction, cutoffs: Cutoffs, now: datetime) -> int:
    """Clear the contact details and secret-word digests of finished women, delete their
    links; returns how many women."""
    ids = [
        r[0]
        for r in await (
            await tx.execute(f"SELECT id FROM participants WHERE {_FINISHED}", cutoffs.params())
        ).fetchall()
    ]
    await tx.executemany(
        "UPDATE participants SET address_idx = NULL, address_enc = NULL, windows_enc = NULL,"
        " safe_hash = NULL, code_hash = NULL, duress_hash = NULL, safe_kid = NULL,"
        " code_kid = NULL, duress_kid = NULL, contact_deleted_at = ? WHERE id = ?",
        [(iso(now), pid) for pid in ids],
    )
    await tx.executemany(
        "DELETE FROM enrol_tokens WHERE participant_id = ?", [(pid,) for pid in ids]
    )
    return len(ids)


async def prune(tx: Transaction, cutoffs: Cutoffs) -> dict[str, int]:
    """Delete plain records past their cutoff; how many, per kind of ``PRUNED_KINDS``."""
    counts: dict[str, int] = {}
    for kind, table, where in _PRUNE:
        cur = await tx.execute(f"DELETE FROM {table} WHERE {where}", cutoffs.params())
        counts[kind] = cur.rowcount
    return counts


async def last_retention_run(db: Database) -> str | None:
    """When retention last ran (ISO, from the audit log), if ever."""
    row = await db.fetchone("SELECT MAX(at) FROM audit_log WHERE action = 'retention_run'")
    return row[0] if row and row[0] else None


async def _count(db: Database, table: str, where: str, cutoffs: Cutoffs) -> int:
    row = await db.reader().fetchone(
        f"SELECT COUNT(*) FROM {table} WHERE {where}", cutoffs.params()
    )
    return int(row[0]) if row else 0
