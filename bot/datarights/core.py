"""Withdrawal and erasure, as steps inside the caller's transaction.

Withdrawal ends all contact for good; her programme's ``on_withdrawal`` policy decides
whether her answers are erased or kept only under an unlinkable research id. Erasure
does the same and then removes everything that says who she was. Chat messages still
on her phone are deleted first (a ``delete`` outbox row), so her row lingers as a
nameless tombstone until the dispatcher has done that; ``purge_erased`` removes it.
"""

from __future__ import annotations

import json
import logging
import secrets
from datetime import datetime, timedelta

import aiosqlite
from cryptography.exceptions import InvalidTag

from bot.clock import iso
from bot.crypto import KeyFileError, KeyRing
from bot.store.db import Database
from bot.store.housekeeping import audit
from bot.store.outbox import open_payload
from bot.store.participants import Participant, Programme
from bot.store.research import anonymise

log = logging.getLogger(__name__)

POLICIES = ("erase", "keep_anonymous")
#: Used when a programme has not chosen: erasing is what she would expect.
DEFAULT_POLICY = "erase"
#: What earlier audit entries about an erased woman say instead of her pseudonym.
TOMBSTONE = "[erased]"


def withdrawal_policy(programme: Programme) -> str:
    value = programme.settings.get("on_withdrawal", DEFAULT_POLICY)
    return value if value in POLICIES else DEFAULT_POLICY


async def withdraw_in_tx(
    tx: aiosqlite.Connection,
    ring: KeyRing,
    participant: Participant,
    programme: Programme,
    now: datetime,
    *,
    actor: str,
    lane: str,
) -> str:
    """Stop every contact and apply the policy to her answers; returns the policy applied."""
    policy = withdrawal_policy(programme)
    await tx.execute(
        "UPDATE participants SET status = 'withdrawn', status_reason = ?, withdrawn_at = ?,"
        " updated_at = ? WHERE id = ?",
        (actor, iso(now), iso(now), participant.id),
    )
    await _cancel_messages(tx, lane)
    await tx.execute("DELETE FROM enrol_tokens WHERE participant_id = ?", (participant.id,))
    await anonymise(tx, ring, participant.id, keep_answers=policy == "keep_anonymous")
    await audit(
        tx, now, actor, "participant_withdrawn", participant.pseudonym, f"answers: {policy}"
    )
    return policy


async def erase_in_tx(
    tx: aiosqlite.Connection,
    ring: KeyRing,
    participant: Participant,
    programme: Programme,
    now: datetime,
    *,
    actor: str,
    lane: str,
    keep_answers: bool,
) -> None:
    """Remove who she was; keeps only what deleting her chat still needs, under no name."""
    pid, pseudonym = participant.id, participant.pseudonym
    await _cancel_messages(tx, lane)
    if participant.status != "withdrawn" or await _has_live_data(tx, pid):
        await anonymise(tx, ring, pid, keep_answers=keep_answers)
    for table in ("enrol_tokens", "consents"):
        await tx.execute(f"DELETE FROM {table} WHERE participant_id = ?", (pid,))
    await tx.execute(
        "DELETE FROM outbox WHERE participant_id = ? AND NOT (kind = 'delete'"
        " AND state IN ('pending', 'sending'))",
        (pid,),
    )
    await tx.execute(
        "DELETE FROM transcript WHERE participant_id = ? AND (deleted_at IS NOT NULL"
        " OR delete_by <= ?)",
        (pid, iso(now)),
    )
    await _forget_staff_messages(tx, ring, pseudonym)
    await tx.execute(
        "UPDATE escalations SET participant_id = NULL, session_id = NULL WHERE participant_id = ?",
        (pid,),
    )
    await tx.execute("UPDATE audit_log SET subject = ? WHERE subject = ?", (TOMBSTONE, pseudonym))
    await tx.execute(
        "UPDATE audit_log SET detail = replace(detail, ?, ?) WHERE instr(detail, ?) > 0",
        (pseudonym, TOMBSTONE, pseudonym),
    )
    await tx.execute(
        "UPDATE participants SET pseudonym = ?, address_idx = NULL, address_enc = NULL,"
        " windows_enc = NULL, safe_hash = NULL, code_hash = NULL, duress_hash = NULL,"
        " safe_kid = NULL, code_kid = NULL, duress_kid = NULL, research_enc = NULL,"
        " status = 'erased', status_reason = NULL, opted_in_again_at = NULL, language = 'en',"
        " timezone = 'UTC', enrolled_on = '', start_on = NULL, end_on = NULL, dropout_on = NULL,"
        " completed_on = NULL, withdrawn_at = NULL, contact_deleted_at = NULL, erased_at = ?,"
        " created_at = ?, updated_at = ? WHERE id = ?",
        ("X-" + secrets.token_hex(8), iso(now), iso(now), iso(now), pid),
    )
    answers = "kept anonymous" if keep_answers else "erased"
    await audit(
        tx, now, actor, "participant_erased", None, f"programme {programme.name}; answers {answers}"
    )


#: A tombstone goes after this long even if deleting her chat never finished.
PURGE_AT_LATEST = timedelta(days=3)
_PURGEABLE = (
    "status = 'erased' AND ((NOT EXISTS (SELECT 1 FROM outbox o WHERE"
    " o.participant_id = participants.id AND o.state IN ('pending', 'sending'))"
    " AND NOT EXISTS (SELECT 1 FROM transcript t WHERE t.participant_id = participants.id"
    " AND t.deleted_at IS NULL AND t.delete_by > ?)) OR erased_at < ?)"
)


async def purge_erased(db: Database, now: datetime, *, dry_run: bool = False) -> int:
    """Delete tombstones whose chat deletion is done (or can no longer be done)."""
    params = (iso(now), iso(now - PURGE_AT_LATEST))
    if dry_run:
        row = await db.fetchone(f"SELECT COUNT(*) FROM participants WHERE {_PURGEABLE}", params)
        return int(row[0]) if row else 0
    async with db.transaction() as tx:
        cur = await tx.execute(f"DELETE FROM participants WHERE {_PURGEABLE}", params)
        purged = cur.rowcount
    if purged:
        # Old page images in the WAL would still hold her rows: fold them in and truncate
        # (best effort: a reader in another process can keep part of the WAL alive).
        await db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return purged


async def _cancel_messages(tx: aiosqlite.Connection, lane: str) -> None:
    await tx.execute(
        "UPDATE outbox SET state = 'cancelled' WHERE lane = ? AND state = 'pending'"
        " AND kind = 'message'",
        (lane,),
    )


async def _has_live_data(tx: aiosqlite.Connection, pid: str) -> bool:
    for table in ("timepoints", "answers", "sessions"):
        cur = await tx.execute(f"SELECT 1 FROM {table} WHERE participant_id = ? LIMIT 1", (pid,))
        if await cur.fetchone():
            return True
    return False


async def _forget_staff_messages(tx: aiosqlite.Connection, ring: KeyRing, pseudonym: str) -> None:
    """Staff notifications already sent that name her are deleted; pending ones still go
    (an escalation must reach the support service) and are pruned by retention.

    A payload that does not open fails the erasure (the transaction rolls back): a skip
    would leave an alert naming her while reporting her erased.
    """
    rows = await (
        await tx.execute(
            "SELECT id, lane, payload_enc FROM outbox WHERE participant_id IS NULL"
            " AND state NOT IN ('pending', 'sending')"
        )
    ).fetchall()
    doomed = [r[0] for r in rows if pseudonym in _payload_text(ring, r[0], r[1], r[2])]
    await tx.executemany("DELETE FROM outbox WHERE id = ?", [(i,) for i in doomed])


def _payload_text(ring: KeyRing, row_id: int, lane: str, blob: bytes) -> str:
    try:
        return json.dumps(open_payload(ring, lane, blob), ensure_ascii=False)
    except (InvalidTag, ValueError) as exc:
        raise KeyFileError(
            f"erasure stopped, nothing changed: staff message {row_id} does not open with"
            " this key ring (is FOLLOWUP_KEY_FILE the installation's key file?)"
        ) from exc
