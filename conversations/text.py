"""Folding and tokenising what she types, the same way in every language.

Safe-word matching must survive case, accents, spacing and punctuation
(DESIGN.md §1.1), so every comparison of typed words goes through ``fold``.
"""

from __future__ import annotations

import re
import unicodedata

_NON_WORD = re.compile(r"[^0-9a-z]+")

#: Letters that NFKD does not decompose into base letter + accent.
_EXTRA_FOLDS = str.maketrans(
    {"ø": "o", "đ": "d", "ł": "l", "æ": "ae", "œ": "oe", "ı": "i", "þ": "th", "ð": "d"}
)


def fold(text: str) -> str:
    """Lower-case, strip accents and punctuation, collapse spaces: 'Ananás!' -> 'ananas'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NON_WORD.sub(" ", stripped.translate(_EXTRA_FOLDS)).strip()


def tokens(text: str) -> list[str]:
    """The folded words of a message, in order, duplicates kept."""
    folded = fold(text)
    return folded.split(" ") if folded else []


def is_single_word(text: str) -> bool:
    """True if ``text`` folds to exactly one word (how secret words must look)."""
    return len(tokens(text)) == 1
