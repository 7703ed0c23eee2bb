"""Secret-word digests across key rotations.

Safe, code and duress words are stored only as HMAC digests bound to her row, so a
rotation cannot re-hash them: nobody has the clear word. Instead the retired key keeps
a verify-only subkey in the key file (never the master, which could decrypt), and the
first time she types one of her words after a rotation its digest is re-made under the
active key. ``*_kid`` columns say which key each digest needs.
"""

from __future__ import annotations

import hmac

import aiosqlite

from bot.crypto import KeyRing
from bot.store.participants import Participant
from conversations.secrets import form_digest
from conversations.text import secret_forms, whole_message_forms

COLUMNS = (("safe_hash", "safe_kid"), ("code_hash", "code_kid"), ("duress_hash", "duress_kid"))


async def refresh_secret_digests(
    tx: aiosqlite.Connection, ring: KeyRing, participant: Participant, text: str
) -> None:
    """If ``text`` contains one of her words hashed under an older key, re-hash it now."""
    row = participant.row
    stale = [(h, k) for h, k in COLUMNS if row[h] is not None and row[k] != ring.active]
    if not stale:
        return
    words = secret_forms(text) | whole_message_forms(text)
    keys = ring.secret_word_keys()
    active_key = keys[0]
    for hash_column, kid_column in stale:
        stored = bytes(row[hash_column])
        for word in words:
            if any(hmac.compare_digest(form_digest(k, participant.id, word), stored) for k in keys):
                await tx.execute(
                    f"UPDATE participants SET {hash_column} = ?, {kid_column} = ? WHERE id = ?",
                    (form_digest(active_key, participant.id, word), ring.active, participant.id),
                )
                break
