"""Folding: the same word however it is typed, in every language."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conversations.secrets import SecretWords, secret_digest
from conversations.text import _base_letters, fold, tokens


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


@given(st.text(st.characters(max_codepoint=127)))
def test_plain_ascii_folds_as_the_full_path_folds_it(text: str) -> None:
    """The ASCII short cut gives what casefold, NFKD and stripping give (a trailing 'é'
    sends the same text down the full path)."""
    assert _base_letters(text + "é") == _base_letters(text) + "e"


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


# --- disguised secret words (DESIGN.md §1.1) -----------------------------------------

import hashlib  # noqa: E402
import hmac  # noqa: E402
import random  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from conversations.text import secret_forms  # noqa: E402

KEY = b"k" * 32
#: Safe words as staff of each shipped language might choose them.
SHIPPED_WORDS = ["pineapple", "Sonnenblume", "Müßiggang", "girasol", "écureuil", "ciliegia"]
INVISIBLE = [
    "\u200b", "\u200c", "\u200d", "\u2060", "\u00ad", "\u200e", "\u200f", "\u202a", "\u202b",
    "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\ufeff", "\u034f",
    "\ufe0f", "\ufe00", "\U000e0100",
]  # fmt: skip
SEPARATORS = [" ", "-", ".", "_", "·", ", ", " - ", "/", "'"]
#: Latin letters and a Cyrillic or Greek look-alike of each.
LOOK_ALIKES = {"a": "а", "e": "е", "o": "ο", "p": "р", "c": "с", "i": "і", "s": "ѕ", "y": "у"}
CAPITAL_LOOK_ALIKES = {"E": "Ε", "T": "Τ", "N": "Ν", "K": "Κ", "H": "Η", "B": "Β", "A": "А"}


def _words(word: str) -> SecretWords:
    return SecretWords("p1", (KEY,), safe=frozenset({secret_digest(KEY, "p1", word)}))


@st.composite
def disguised(draw: st.DrawFn) -> tuple[str, str]:
    """A shipped-language safe word with invisible characters, separators, look-alike
    letters and any case inserted anywhere, inside other words of a message."""
    word = draw(st.sampled_from(SHIPPED_WORDS))
    out = []
    for ch in word:
        if draw(st.booleans()):
            ch = ch.upper()
        if ch in LOOK_ALIKES and draw(st.booleans()):
            ch = LOOK_ALIKES[ch]
        elif ch in CAPITAL_LOOK_ALIKES and draw(st.booleans()):
            ch = CAPITAL_LOOK_ALIKES[ch]
        out.append(ch)
        if draw(st.integers(0, 3)) == 0:
            out.append(draw(st.sampled_from(INVISIBLE + SEPARATORS)))
    before = draw(st.sampled_from(["", "ok ", "yes, ", "1 "]))
    after = draw(st.sampled_from(["", "!", " now", " 2"]))
    return word, before + "".join(out) + after


@settings(max_examples=300, deadline=None)
@given(disguised())
def test_a_disguised_safe_word_matches(case: tuple[str, str]) -> None:
    word, message = case
    assert _words(word).has_safe_word(message), message


@pytest.mark.parametrize(
    "message",
    [
        "PINE APPLE",
        "pine-apple",
        "p.i.n.e.a.p.p.l.e",
        "pine\u200bapple",
        "рineаpple",
        "ΡINΕAPPLE",  # Greek Ρ, Ε
    ],
)
def test_split_invisible_and_look_alike_forms_match(message: str) -> None:
    assert _words("pineapple").has_safe_word(message)


def test_other_words_do_not_match() -> None:
    words = _words("pineapple")
    for message in ["pine", "apple pine", "pineapples", "pine tree apple", "1 2 3"]:
        assert not words.has_safe_word(message), message


def test_digests_stored_before_the_new_fold_still_match() -> None:
    """Safe words enrolled earlier are stored as HMAC(fold(word)); nobody can re-hash them."""
    for word in ["pineapple", "Ananás", "Straße", "bluebird7"]:
        old_form = fold(word)  # the single token enrolment accepted
        old = hmac.new(KEY, f"secret-word\x00p1\x00{old_form}".encode(), hashlib.sha256).digest()
        assert secret_digest(KEY, "p1", word) == old
        legacy = SecretWords("p1", (KEY,), safe=frozenset({old}), code=frozenset({old}))
        assert legacy.has_safe_word(f"oh {word.upper()}!")
        assert legacy.is_code_word(f" {word} ")


def test_code_word_may_be_typed_split_or_disguised() -> None:
    words = SecretWords("p1", (KEY,), code=frozenset({secret_digest(KEY, "p1", "bluebird")}))
    for typed in ["Bluebird", "blue bird", "blue-bird", "bluе\u200bbird"]:
        assert words.is_code_word(typed), typed
    assert not words.is_code_word("bluebird please")


def test_answers_and_numbers_fold_as_before() -> None:
    """Look-alike mapping is for secret words only: '10' stays a number, 'ο' is no zero."""
    assert fold("1\u200b0") == "10"
    assert fold("ΟΚ") == ""  # Greek: not mapped to Latin 'ok' for answers
    assert "ok" in secret_forms("ΟΚ")


def test_a_split_safe_word_at_the_end_of_a_long_message_is_found() -> None:
    """Worst case for split words: Telegram's longest message, all one-letter words."""
    rng = random.Random(7)
    filler = " ".join(rng.choice("bdfghjkmqrtvwxz") for _ in range(2000))
    message = f"{filler} p i n e a p p l e"
    assert len(message) <= 4096
    assert _words("pineapple").has_safe_word(message)
    assert not _words("pineapple").has_safe_word(filler)
