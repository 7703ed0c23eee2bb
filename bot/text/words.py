"""Her language's typed words (yes, skip, back, ...) from the gettext catalog.

Translators give comma-separated lists under the ``keyword`` context, so
'skip, pass' can become 'überspringen, weiter'. English always works too.
"""

from __future__ import annotations

import functools

from bot.text.i18n import Translator
from conversations.lexicon import Lexicon


def _keyword_lists(tr: Translator) -> dict[str, str]:
    # Literal calls so `pybabel extract` finds every msgid.
    return {
        # Translators: comma-separated words she may type for "yes" (a whole
        # message; case and accents do not matter; English always works too).
        # Never use STOP, END, QUIT, CANCEL, START, HELP, INFO.
        "yes": tr.pgettext("keyword", "yes, y, ok, okay, sure"),
        # Translators: comma-separated words for "no" (to a yes/no question).
        "no": tr.pgettext("keyword", "no, n"),
        # Translators: answers to "Is now a good time?" meaning "not now".
        "not_now": tr.pgettext("keyword", "not now, no, later, not yet"),
        # Translators: words to skip a question; include your SKIP word.
        "skip": tr.pgettext("keyword", "skip, pass"),
        # Translators: words to go back one question; include your BACK word.
        "back": tr.pgettext("keyword", "back, previous"),
        # Translators: words to stop for now and carry on later (LATER word).
        "later": tr.pgettext("keyword", "later, pause"),
        # Translators: answers to "go on with the questions?" meaning yes.
        "go_on": tr.pgettext("keyword", "yes, go on, continue, ok"),
        # Translators: answers to "go on with the questions?" meaning stop.
        "stop_now": tr.pgettext("keyword", "no, stop for now, stop now, not now"),
        # Translators: ways to say "later today" when asked when suits her.
        "later_today": tr.pgettext("keyword", "later today, today"),
        # Translators: ways to say "tomorrow" when asked when suits her.
        "tomorrow": tr.pgettext("keyword", "tomorrow"),
        # Translators: ways to say "next week" when asked when suits her.
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
