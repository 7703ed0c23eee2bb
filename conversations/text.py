"""Folding and tokenising what she types, the same way in every language.

Safe-word matching must survive case, accents, spacing, punctuation, invisible
format characters and look-alike letters (DESIGN.md §1.1), so every comparison of
typed words goes through ``fold``, and every comparison with a secret word through
``secret_forms`` / ``secret_form`` (the only place that knows how secret words fold).
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import cache, lru_cache
from importlib import resources

_NON_WORD = re.compile(r"[^0-9a-z]+")

#: Letters that NFKD does not decompose into base letter + accent.
_EXTRA_FOLDS = str.maketrans(
    {"ø": "o", "đ": "d", "ł": "l", "æ": "ae", "œ": "oe", "ı": "i", "þ": "th", "ð": "d"}
)

#: Longest run of neighbouring words joined when looking for a split secret word, in
#: letters. Enrolment refuses longer secret words so that every one can be found split.
MAX_SECRET_LENGTH = 32


def _invisible(ch: str) -> bool:
    """Format characters (Cf: ZWSP, ZWJ, ZWNJ, word joiner, soft hyphen, bidi marks),
    variation selectors and the combining grapheme joiner: shown as nothing, so ignored."""
    code = ord(ch)
    return (
        unicodedata.category(ch) == "Cf"
        or 0xFE00 <= code <= 0xFE0F
        or 0xE0100 <= code <= 0xE01EF
        or code == 0x034F
    )


def _base_letters(text: str) -> str:
    """Invisible characters dropped, case folded, accents stripped (compatibility forms too)."""
    if text.isascii():  # no format characters, accents or compatibility forms in ASCII
        return text.lower()
    visible = "".join(ch for ch in text if not _invisible(ch))
    decomposed = unicodedata.normalize("NFKD", visible.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.translate(_EXTRA_FOLDS)


def fold(text: str) -> str:
    """Lower-case, strip accents, punctuation and invisible characters, collapse spaces.

    'Ananás!' -> 'ananas'; 'pine\u200bapple' -> 'pineapple'. Look-alike letters are not
    mapped here: answers and commands keep their meaning (a Greek 'ο' is not a zero).
    """
    return _NON_WORD.sub(" ", _base_letters(text)).strip()


@lru_cache(maxsize=4096)
def fold_word(word: str) -> str:
    """``fold`` of the survey's own words (labels, codes, keywords), cached: never her text,
    which is folded afresh so that no message of hers stays in memory after its step."""
    return fold(word)


def tokens(text: str) -> list[str]:
    """The folded words of a message, in order, duplicates kept."""
    folded = fold(text)
    return folded.split(" ") if folded else []


def is_single_word(text: str) -> bool:
    """True if ``text`` folds to exactly one word (how secret words must look)."""
    return len(tokens(text)) == 1


@cache
def _latin_prototypes() -> dict[str, str]:
    """UTS #39 confusables (the ``confusable_homoglyphs`` package's copy of Unicode's
    confusables.txt): each non-ASCII character whose prototype is ASCII letters or digits.

    ASCII itself is never mapped (UTS #39 maps 'l' to 'I' and '0' to 'O'): a secret word
    typed plainly folds exactly as before, so digests stored before this mapping still match.
    """
    data = resources.files("confusable_homoglyphs").joinpath("confusables.json").read_text()
    table: dict[str, list[dict[str, str]]] = json.loads(data)
    prototypes: dict[str, str] = {}
    for char, entries in table.items():
        if len(char) != 1 or char.isascii() or len(entries) != 1:
            continue  # a prototype lists its whole group; a confusable exactly its prototype
        target = entries[0]["c"].casefold()
        if target.isascii() and target.isalnum():
            prototypes[char] = target
    return prototypes


def skeleton_words(text: str, *, capitals_first: bool = False) -> list[str]:
    """The words of ``text`` with look-alike letters mapped to Latin (Cyrillic 'а' -> 'a').

    ``capitals_first`` maps before case folding too, for capitals whose small letter looks
    like nothing Latin (Greek 'Τ' is a 'T', its 'τ' is not a 't').
    """
    prototypes = _latin_prototypes()
    if capitals_first:
        text = "".join(ch if ch.isascii() else prototypes.get(ch, ch) for ch in text)
    base = _base_letters(text)
    mapped = "".join(ch if ch.isascii() else prototypes.get(ch, ch) for ch in base)
    folded = _NON_WORD.sub(" ", mapped).strip()
    return folded.split(" ") if folded else []


def secret_form(word: str) -> str:
    """The one string a secret word is hashed as: folded, look-alikes mapped, no separators.

    'Pine-Apple', 'PINE APPLE' and 'pіneapple' (Cyrillic і) all give 'pineapple'.
    """
    return "".join(skeleton_words(word))


@lru_cache(maxsize=64)
def secret_forms(text: str) -> frozenset[str]:
    """Every string of a message that could be a secret word, to compare with its digest.

    Each word, and each run of neighbouring words joined (a word split by spaces, hyphens,
    dots or invisible characters) up to MAX_SECRET_LENGTH letters; both with look-alike
    letters mapped and, for digests stored before that mapping, without. A false match ends
    a session, which is the safe direction. Measured on one core: a 4,096-character message
    of one-letter words (the worst case) gives about 61,000 forms, ~150 ms for the safe and
    the duress check together; a 16-word sentence ~0.4 ms.
    """
    forms: set[str] = set(tokens(text))
    for words in (skeleton_words(text), skeleton_words(text, capitals_first=True)):
        forms.update(words)
        for start in range(len(words)):
            joined = words[start]
            for word in words[start + 1 :]:
                joined += word
                if len(joined) > MAX_SECRET_LENGTH:
                    break
                forms.add(joined)
    forms.discard("")
    return frozenset(forms)


def whole_message_forms(text: str) -> set[str]:
    """The message as a whole, as a secret word (how a code word must be typed)."""
    forms = {
        secret_form(text),
        "".join(skeleton_words(text, capitals_first=True)),
        "".join(tokens(text)),
    }
    forms.discard("")
    return forms
