"""Safe, code and duress words, known only as keyed hashes (DESIGN.md §1.3).

The shell hands the engine a ``SecretWords`` holding the participant's HMAC
digests and the key; the clear words are never stored or passed around.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from conversations.text import fold, tokens


def secret_digest(key: bytes, participant_ref: str, word: str) -> bytes:
    """Keyed hash of a folded secret word, bound to one participant so equal words never match."""
    message = f"secret-word\x00{participant_ref}\x00{fold(word)}".encode()
    return hmac.new(key, message, hashlib.sha256).digest()


@dataclass(frozen=True)
class SecretWords:
    """A participant's secret words as digests, plus the key(s) to test candidates."""

    participant_ref: str
    keys: tuple[bytes, ...] = ()
    safe: frozenset[bytes] = frozenset()
    code: frozenset[bytes] = frozenset()
    duress: frozenset[bytes] = frozenset()

    def _digests(self, word: str) -> set[bytes]:
        return {secret_digest(key, self.participant_ref, word) for key in self.keys}

    def _any_token_in(self, text: str, targets: frozenset[bytes]) -> bool:
        if not targets:
            return False
        return any(self._digests(word) & targets for word in set(tokens(text)))

    def has_safe_word(self, text: str) -> bool:
        """The safe word appears as a word anywhere in ``text``."""
        return self._any_token_in(text, self.safe)

    def has_duress_word(self, text: str) -> bool:
        """The duress word appears as a word anywhere in ``text``."""
        return self._any_token_in(text, self.duress)

    def is_code_word(self, text: str) -> bool:
        """The whole message is her code word."""
        folded = fold(text)
        return bool(folded) and bool(self._digests(folded) & self.code)

    @property
    def needs_code(self) -> bool:
        return bool(self.code)
