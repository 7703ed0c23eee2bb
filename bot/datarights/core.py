"""Withdrawal and erasure, as steps inside the caller's transaction.

Withdrawal ends all contact for good; her programme's ``on_withdrawal`` policy decides
whether her answers are erased or kept only under an unlinkable research id. Erasure
does the same and then removes everything that says who she was. Chat messages still
on her phone are deleted first (a ``delete`` outbox row), so her row lingers as a
nameless tombstone until the dispatcher has done that; ``purge_erased`` removes it.
The statements are the store's (``bot.store.erasure``); their order is decided here.
"""

from __future__ import annotations

import json
import logging
import secrets
from datetime import datetime, timedelta

from cryptography.exceptions import InvalidTag

from bot.crypto import KeyFileError, KeyRing
from bot.store.db import Database, Transaction
from bot.store.erasure import (
    blank_participant,
    cancel_pending_messages,
    count_purgeable_tombstones,
    delete_enrol_tokens,
    delete_finished_transcript,
    delete_links_and_consents,
    delete_outbox_except_chat_deletion,
    delete_outbox_rows,
    fold_wal,
    has_live_data,
    mark_withdrawn,
    purge_tombstones,
    rename_in_audit_log,
    sent_staff_messages,
    unlink_escalations,
)
from bot.store.housekeeping import audit
from bot.store.outbox import open_payload
from bot.store.participants import Participant, Programme
from bot.store.programme_settings import save_settings
from bot.store.research import anonymise
from conversations.vocabulary import ParticipantStatus

log = logging.getLogger(__name__)

POLICIES = ("erase", "keep_anonymous")
#: Used when a programme has not chosen: erasing is what she would expect.
DEFAULT_POLICY = "erase"
#: What earlier audit entries about an erased woman say instead of her pseudonym.
TOMBSTONE = "[erased]"


def withdrawal_policy(programme: Programme) -> str:
    value = programme.settings.get("on_withdrawal", DEFAULT_POLICY)
    return value if value in POLICIES else DEFAULT_POLICY


async def set_withdrawal_policy(
    db: Database, programme: Programme, policy: str, actor: str, now: datetime
) -> None:
    """Record the programme's ``on_withdrawal`` policy and who set it, in one transaction."""
    settings = {**programme.settings, "on_withdrawal": policy}
    async with db.transaction() as tx:
        await save_settings(tx, programme.id, settings)
        await audit(tx, now, actor, "programme_policy", programme.name, f"on_withdrawal={policy}")


async def withdraw_in_tx(
    tx: Transaction,
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
    await mark_withdrawn(tx, participant.id, actor, now)
    await cancel_pending_messages(tx, lane)
    await delete_enrol_tokens(tx, participant.id)
    await anonymise(tx, ring, participant.id, keep_answers=policy == "keep_anonymous")
    await audit(
        tx, now, actor, "participant_withdrawn", participant.pseudonym, f"answers: {policy}"
    )
    return policy


async def erase_in_tx(
    tx: Transaction,
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
    await cancel_pending_messages(tx, lane)
    if participant.status != ParticipantStatus.WITHDRAWN or await has_live_data(tx, pid):
        await anonymise(tx, ring, pid, keep_answers=keep_answers)
    await delete_links_and_consents(tx, pid)
    await delete_outbox_except_chat_deletion(tx, pid)
    await delete_finished_transcript(tx, pid, now)
    await _forget_staff_messages(tx, ring, pseudonym)
    await unlink_escalations(tx, pid)
    await rename_in_audit_log(tx, pseudonym, TOMBSTONE)
    await blank_participant(tx, pid, "X-" + secrets.token_hex(8), now)
    answers = "kept anonymous" if keep_answers else "erased"
    await audit(
        tx, now, actor, "participant_erased", None, f"programme {programme.name}; answers {answers}"
    )


#: A tombstone goes after this long even if deleting her chat never finished.
PURGE_AT_LATEST = timedelta(days=3)


async def purge_erased(db: Database, now: datetime, *, dry_run: bool = False) -> int:
    """Delete tombstones whose chat deletion is done (or can no longer be done)."""
    if dry_run:
        return await count_purgeable_tombstones(db, now, now - PURGE_AT_LATEST)
    purged = await purge_tombstones(db, now, now - PURGE_AT_LATEST)
    if purged:
        await fold_wal(db)  # old page images in the WAL would still hold her rows
    return purged


async def _forget_staff_messages(tx: Transaction, ring: KeyRing, pseudonym: str) -> None:
    """Staff notifications already sent that name her are deleted; pending ones still go
    (an escalation must reach the support service) and are pruned by retention.

    A payload that does not open fails the erasure (the transaction rolls back): a skip
    would leave an alert naming her while reporting her erased.
    """
    rows = await sent_staff_messages(tx)
    doomed = [r.id for r in rows if pseudonym in _payload_text(ring, r.id, r.lane, r.payload_enc)]
    await delete_outbox_rows(tx, doomed)


def _payload_text(ring: KeyRing, row_id: int, lane: str, blob: bytes) -> str:
    try:
        return json.dumps(open_payload(ring, lane, blob), ensure_ascii=False)
    except (InvalidTag, ValueError) as exc:
        raise KeyFileError(
            f"erasure stopped, nothing changed: staff message {row_id} does not open with"
            " this key ring (is FOLLOWUP_KEY_FILE the installation's key file?)"
        ) from exc
