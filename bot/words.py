"""Her language's typed words (yes, skip, back, ...) from the gettext catalog.

Translators give comma-separated lists under the ``keyword`` context, so
'skip, pass' can become 'überspringen, weiter'. English always works too.
"""

from __future__ import annotations

import functools

from bot.i18n import Translator
from conversations.lexicon import Lexicon


def _keyword_lists(tr: Translator) -> dict[str, str]:
    # Literal calls so `pybabel extract` finds every msgid.
    return {
        "yes": tr.pgettext("keyword", "yes, y, ok, okay, sure"),
        "no": tr.pgettext("keyword", "no, n"),
        "not_now": tr.pgettext("keyword", "not now, no, later, not yet"),
        "skip": tr.pgettext("keyword", "skip, pass"),
        "back": tr.pgettext("keyword", "back, previous"),
        "later": tr.pgettext("keyword", "later, pause"),
        "go_on": tr.pgettext("keyword", "yes, go on, continue, ok"),
        "stop_now": tr.pgettext("keyword", "no, stop for now, stop now, not now"),
        "later_today": tr.pgettext("keyword", "later today, today"),
        "tomorrow": tr.pgettext("keyword", "tomorrow"),
        "next_week": tr.pgettext("keyword", "next week"),
        # Translators: words that end her part in the study for good (any time, any state).
        "withdraw": tr.pgettext("keyword", "withdraw"),
    }


@functools.cache
def lexicon_for(language: str) -> Lexicon:
    """English words plus hers; choice labels matched in both languages."""
    tr = Translator(language)
    extra = {
        meaning: frozenset(w.strip() for w in words.split(",") if w.strip())
        for meaning, words in _keyword_lists(tr).items()
    }
    return Lexicon(translate=tr.gettext).with_words(extra)
