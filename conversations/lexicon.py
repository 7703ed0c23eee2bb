"""The words she may type instead of numbers: commands, yes/no, choice labels.

English always works; the shell adds her language's words (from the gettext
catalog) so 'ja', 'weiter' or 'saltar' work too. Digits always work.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from conversations.text import fold, fold_word

#: Carrier keywords (DESIGN.md §1.1/§1.7); a message that is only one of these.
CARRIER_STOP = frozenset(
    {"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout"}
)
CARRIER_START = frozenset({"start", "unstop"})
CARRIER_OTHER = frozenset({"yes", "help", "info"})
CARRIER_KEYWORDS = CARRIER_STOP | CARRIER_START | CARRIER_OTHER

ENGLISH_KEYWORDS: Mapping[str, frozenset[str]] = {
    "yes": frozenset({"yes", "y", "yeah", "yep", "ok", "okay", "sure"}),
    "no": frozenset({"no", "n", "nope"}),
    "not_now": frozenset({"not now", "no", "n", "later", "not yet"}),
    "skip": frozenset({"skip", "pass"}),
    "back": frozenset({"back", "previous"}),
    "later": frozenset({"later", "pause"}),
    "go_on": frozenset({"yes", "y", "go on", "continue", "yes go on", "ok"}),
    "stop_now": frozenset({"no", "n", "stop for now", "stop now", "not now"}),
    "later_today": frozenset({"later today", "today"}),
    "tomorrow": frozenset({"tomorrow"}),
    "next_week": frozenset({"next week"}),
    "withdraw": frozenset({"withdraw"}),
}


def is_carrier_stop(text: str) -> bool:
    """The whole message is a carrier stop keyword, however spaced: 'STOP ALL', 'opt-out'."""
    folded = fold(text)
    return folded in CARRIER_STOP or folded.replace(" ", "") in CARRIER_STOP


#: Keyword sets that are commands during questions (not answers).
COMMANDS = ("skip", "back", "later")


def _identity(message: str) -> str:
    return message


@dataclass(frozen=True)
class Lexicon:
    """Folded keyword sets per meaning, and a translator for choice labels."""

    keywords: Mapping[str, frozenset[str]] = field(default_factory=lambda: dict(ENGLISH_KEYWORDS))
    translate: Callable[[str], str] = _identity

    def means(self, text: str, meaning: str) -> bool:
        """The whole message is one of the words for ``meaning``."""
        return fold(text) in self.keywords.get(meaning, frozenset())

    def label_forms(self, label: str) -> set[str]:
        """Folded forms of a choice label that she may type: English and her language."""
        return {f for f in (fold_word(label), fold_word(self.translate(label))) if f}

    def with_words(self, extra: Mapping[str, frozenset[str]]) -> Lexicon:
        """A lexicon that also knows ``extra`` (folded) words, English kept."""
        merged = {k: set(v) for k, v in self.keywords.items()}
        for meaning, words in extra.items():
            merged.setdefault(meaning, set()).update(fold(w) for w in words if fold(w))
        return Lexicon({k: frozenset(v) for k, v in merged.items()}, self.translate)
