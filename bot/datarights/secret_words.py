"""Secret-word digests across key rotations.

Safe, code and duress words are stored only as HMAC digests bound to her row, so a
rotation cannot re-hash them: nobody has the clear word. Instead the retired key keeps
a verify-only subkey in the key file (never the master, which could decrypt), and the
first time she types one of her words after a rotation its digest is re-made under the
active key. Each digest records which key it needs (``bot.store.secret_digests``).
"""

from __future__ import annotations

import hmac

from bot.crypto import KeyRing
from bot.store.db import Transaction
from bot.store.participants import Participant
from bot.store.secret_digests import replace_digest, stored_digests
from conversations.secrets import form_digest
from conversations.text import secret_forms, whole_message_forms


async def refresh_secret_digests(
    tx: Transaction, ring: KeyRing, participant: Participant, text: str
) -> None:
    """If ``text`` contains one of her words hashed under an older key, re-hash it now."""
    stale = [d for d in stored_digests(participant.row) if d.key_id != ring.active]
    if not stale:
        return
    words = secret_forms(text) | whole_message_forms(text)
    keys = ring.secret_word_keys()
    active_key = keys[0]
    for stored in stale:
        for word in words:
            if any(
                hmac.compare_digest(form_digest(k, participant.id, word), stored.digest)
                for k in keys
            ):
                await replace_digest(
                    tx,
                    participant.id,
                    stored.word,
                    form_digest(active_key, participant.id, word),
                    ring.active,
                )
                break
