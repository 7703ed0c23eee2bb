"""Safe, code and duress words, known only as keyed hashes (DESIGN.md §1.3).

The shell hands the engine a ``SecretWords`` holding the participant's HMAC
digests and the key; the clear words are never stored or passed around.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from functools import lru_cache

from conversations.text import secret_form, secret_forms, whole_message_forms


def _keyed(key: bytes, participant_ref: str) -> hmac.HMAC:
    """The HMAC of one key, bound to one participant so equal words never match."""
    return hmac.new(key, f"secret-word\x00{participant_ref}\x00".encode(), hashlib.sha256)


def form_digest(key: bytes, participant_ref: str, form: str) -> bytes:
    """Keyed hash of an already folded form of a secret word."""
    mac = _keyed(key, participant_ref)
    mac.update(form.encode())
    return mac.digest()


def secret_digest(key: bytes, participant_ref: str, word: str) -> bytes:
    """Keyed hash of a secret word as enrolment gives it (folded by ``secret_form``)."""
    return form_digest(key, participant_ref, secret_form(word))


@lru_cache(maxsize=8)
def _digests_of_forms(keys: tuple[bytes, ...], participant_ref: str, text: str) -> frozenset[bytes]:
    """Digests of every form of ``text`` under every key; cached so the safe and the duress
    check of one message hash it once. The keyed prefix is hashed once per key, then copied."""
    forms = secret_forms(text)
    digests: set[bytes] = set()
    for key in keys:
        prefix = _keyed(key, participant_ref)
        for form in forms:
            mac = prefix.copy()
            mac.update(form.encode())
            digests.add(mac.digest())
    return frozenset(digests)


@dataclass(frozen=True)
class SecretWords:
    """A participant's secret words as digests, plus the key(s) to test candidates."""

    participant_ref: str
    keys: tuple[bytes, ...] = ()
    safe: frozenset[bytes] = frozenset()
    code: frozenset[bytes] = frozenset()
    duress: frozenset[bytes] = frozenset()

    def _digests(self, form: str) -> set[bytes]:
        return {form_digest(key, self.participant_ref, form) for key in self.keys}

    def _any_token_in(self, text: str, targets: frozenset[bytes]) -> bool:
        if not targets:
            return False
        return bool(_digests_of_forms(self.keys, self.participant_ref, text) & targets)

    def has_safe_word(self, text: str) -> bool:
        """The safe word appears anywhere in ``text``: as a word, or split over neighbours."""
        return self._any_token_in(text, self.safe)

    def has_duress_word(self, text: str) -> bool:
        """The duress word appears anywhere in ``text``, as the safe word would."""
        return self._any_token_in(text, self.duress)

    def is_code_word(self, text: str) -> bool:
        """The whole message is her code word (separators and look-alikes folded: 'blue bird')."""
        if not self.code:
            return False
        return any(self._digests(form) & self.code for form in whole_message_forms(text))

    @property
    def needs_code(self) -> bool:
        return bool(self.code)
