"""Retention: nothing about her is kept longer than it is needed.

Contact details go ``contact_days`` after her last timepoint ends (T4 done or missed,
or she withdrew); operational records (ended sessions, finished outbox rows, references
to deleted messages, counters) after ``records_days``; inbound de-duplication entries
after ``dedupe_days``; erased women's tombstones once their chat is deleted.
``RetentionJob`` runs it daily inside ``followup run``, on its own timer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import datetime, time, timedelta

from starlette.routing import BaseRoute

from bot.clock import Clock, iso, parse_iso
from bot.config import RetentionConfig
from bot.datarights.core import purge_erased
from bot.store.db import Database
from bot.store.housekeeping import audit

log = logging.getLogger(__name__)

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

KINDS = ("contact_details", *(p[0] for p in _PRUNE), "erased_tombstones")


async def run_retention(
    db: Database, config: RetentionConfig, now: datetime, *, dry_run: bool = False
) -> dict[str, int]:
    """Delete (or with ``dry_run`` only count) what has outlived its period; counts by kind."""
    cutoffs = {
        "contact": iso(now - timedelta(days=config.contact_days)),
        "records": iso(now - timedelta(days=config.records_days)),
        "dedupe": iso(now - timedelta(days=config.dedupe_days)),
    }
    counts: dict[str, int] = {}
    if dry_run:
        counts["contact_details"] = await _count(db, "participants", _FINISHED, cutoffs)
        for kind, table, where in _PRUNE:
            counts[kind] = await _count(db, table, where, cutoffs)
        counts["erased_tombstones"] = await purge_erased(db, now, dry_run=True)
        return counts
    async with db.transaction() as tx:
        ids = [
            r[0]
            for r in await (
                await tx.execute(f"SELECT id FROM participants WHERE {_FINISHED}", cutoffs)
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
        counts["contact_details"] = len(ids)
        for kind, table, where in _PRUNE:
            cur = await tx.execute(f"DELETE FROM {table} WHERE {where}", cutoffs)
            counts[kind] = cur.rowcount
    counts["erased_tombstones"] = await purge_erased(db, now)
    async with db.transaction() as tx:
        summary = ", ".join(f"{k}={v}" for k, v in counts.items())
        await audit(tx, now, "system", "retention_run", None, summary)
    log.info("retention: %s", summary)
    return counts


async def _count(db: Database, table: str, where: str, params: dict[str, str]) -> int:
    async with db.conn.execute(f"SELECT COUNT(*) FROM {table} WHERE {where}", params) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


class RetentionJob:
    """A ``followup run`` component: retention once a day at ``run_at`` (UTC), and erased
    tombstones purged every few minutes. The last run is read from the audit log, so a
    restart neither skips a day nor runs twice."""

    name = "retention"

    def __init__(
        self, db: Database, config: RetentionConfig, clock: Clock, poll_seconds: float = 300.0
    ) -> None:
        self.db = db
        self.config = config
        self.clock = clock
        self.poll_seconds = poll_seconds
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    def routes(self) -> Sequence[BaseRoute]:
        return ()

    async def start(self) -> None:
        self._stop.clear()
        self._task = asyncio.create_task(self._loop(), name="retention")

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task

    async def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                await self.tick()
            except Exception:  # never die; try again at the next poll
                log.exception("retention tick failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.poll_seconds)

    def due_at(self, now: datetime) -> datetime:
        """Today's run time (UTC)."""
        hour, minute = (int(x) for x in self.config.run_at.split(":"))
        return datetime.combine(now.date(), time(hour, minute), tzinfo=now.tzinfo)

    async def tick(self) -> dict[str, int] | None:
        """Purge tombstones; run retention if today's run is due and not done yet."""
        now = self.clock.now()
        due = self.due_at(now)
        if now < due:
            await purge_erased(self.db, now)
            return None
        row = await self.db.fetchone("SELECT MAX(at) FROM audit_log WHERE action = 'retention_run'")
        if row and row[0] and parse_iso(row[0]) >= due:
            await purge_erased(self.db, now)
            return None
        return await run_retention(self.db, self.config, now)
