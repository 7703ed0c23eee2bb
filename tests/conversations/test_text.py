"""Folding: the same word however it is typed, in every language."""

from __future__ import annotations

import pytest

from conversations.secrets import SecretWords, secret_digest
from conversations.text import fold, tokens


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("Ananás", "ananas"),
        ("  ANANAS!!  ", "ananas"),
        ("Straße", "strasse"),
        ("Ærø", "aero"),
        ("ÇA VA?", "ca va"),
        ("uno,\tdos;  tres", "uno dos tres"),
        ("\u200fسلام\u202e", ""),
        ("", ""),
    ],
)
def test_fold(raw: str, folded: str) -> None:
    assert fold(raw) == folded


def test_tokens_keep_order() -> None:
    assert tokens("Yes, I'm OK.") == ["yes", "i", "m", "ok"]


def test_secret_words_are_bound_to_participant_and_key() -> None:
    a = secret_digest(b"k" * 32, "p1", "Ananás")
    assert a == secret_digest(b"k" * 32, "p1", "ananas")
    assert a != secret_digest(b"k" * 32, "p2", "ananas")
    assert a != secret_digest(b"j" * 32, "p1", "ananas")


def test_secret_words_match_with_any_ring_key() -> None:
    old, new = b"o" * 32, b"n" * 32
    words = SecretWords("p1", (new, old), safe=frozenset({secret_digest(old, "p1", "mango")}))
    assert words.has_safe_word("MANGO please")
    assert not words.has_safe_word("mangos")
