"""Lines she may see before saying it is safe to talk reveal nothing, in every locale (DESIGN §1.2).

Each locale has a deny-list of word stems (violence, abuse, partner, programme,
police, support service, perpetrator, domestic... with their inflections and
compounds), matched as substrings of the folded text, so 'häusliche', 'Täterprogramm',
'maltrattamenti' or 'policía' are all caught. The lists are tested too: each must
catch revealing sample sentences and the translated survey's own sensitive items.
"""

from __future__ import annotations

import itertools
from datetime import date

import pytest

from bot.text.i18n import Translator, format_day
from bot.text.render import render
from conversations import build
from conversations import messages as m
from conversations.effects import CONSENT, GATE, SNOOZE, Line, Outgoing
from conversations.neutral import DENY, revealing
from tests.locales.support_locales import LANGUAGES, SHIPPED, WORDS, survey

#: Sentences that would give her away; each locale's list must catch every one.
REVEALING: dict[str, tuple[str, ...]] = {
    "en": ("Your ex-partner's programme", "Domestic abuse support service", "Call the police",
           "Are you safe?", "A perpetrator programme survey"),
    "de": ("Ihr Ex-Partner im Täterprogramm", "häusliche Gewalt", "Rufen Sie die Polizei",
           "Ihre Beratungsstelle", "Sind Sie in Sicherheit?", "Frauenhaus", "Gewaltschutz"),
    "es": ("su expareja", "violencia de género", "Llame a la Policía", "servicio de apoyo",
           "¿Está segura?", "el programa para maltratadores", "víctimas"),
    "it": ("il suo ex compagno", "centro antiviolenza", "Chiami la Polizia", "servizio di sostegno",
           "Si sente al sicuro?", "programma per autori di violenza", "maltrattamenti"),
    "fr": ("votre ex-conjoint", "violences conjugales", "Appelez la police", "service de soutien",
           "Êtes-vous en sécurité ?", "programme pour auteurs", "maltraitance"),
}  # fmt: skip

#: Sensitive survey items whose translation every locale's list must flag.
SENSITIVE_ITEMS = ("viol_physical", "help_now", "police_called", "hopes", "feel_safe")


def test_every_shipped_language_has_a_deny_list() -> None:
    assert set(LANGUAGES) <= set(DENY) and set(SHIPPED) <= set(DENY)


@pytest.mark.parametrize("language", SHIPPED)
def test_deny_list_catches_revealing_sentences(language: str) -> None:
    for sentence in REVEALING[language]:
        assert revealing(sentence, language), f"{language}: {sentence!r} not caught"


@pytest.mark.parametrize("language", SHIPPED)
def test_deny_list_flags_the_translated_sensitive_items(language: str) -> None:
    tr, s = Translator(language), survey()
    for item_id in SENSITIVE_ITEMS:
        for text in s.item(item_id).text.all_texts():
            assert revealing(tr.gettext(text), language), f"{language}: {item_id} not flagged"


def _days(language: str) -> set[str]:
    """Every weekday in every month, as {day} would fill the snooze line."""
    return {
        format_day(date(2026, month, d), language) for month in range(1, 13) for d in range(1, 8)
    }


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_neutral_line_passes_the_deny_list(language: str) -> None:
    tr = Translator(language)
    for msgid in m.NEUTRAL:
        text = tr.gettext(msgid)
        assert revealing(text, language) == [], f"{language}: {msgid!r} -> {text!r}"
        assert revealing(msgid, "en") == [], f"source: {msgid!r}"
    for day in _days(language):
        filled = tr.format(m.SNOOZE_OK_DAY, {"day": day})
        assert revealing(filled, language) == [], filled


@pytest.mark.parametrize("language", LANGUAGES)
def test_rendered_openers_and_snooze_messages_reveal_nothing(language: str) -> None:
    """Openers as sent: gate line with its choices and the programme's sender name; the
    snooze and consent questions with theirs."""
    tr = Translator(language)
    messages = (
        [
            Outgoing(kind, (Line(msgid),), build.GATE_CHOICES, "choice", GATE)
            for kind, msgid in (
                ("opener", m.OPENER),
                ("reminder", m.REMINDER),
                ("opener", m.RESUME),
            )
        ]
        + [Outgoing("snooze", (Line(m.SNOOZE_ASK),), build.SNOOZE_CHOICES, "choice", SNOOZE)]
        + [
            Outgoing("consent", (Line(msgid),), build.CONSENT_CHOICES, "choice", CONSENT)
            for msgid in (m.CONSENT_ASK, m.CONSENT_AGAIN)
        ]
    )
    for message, style in itertools.product(messages, ("numbered", "buttons")):
        out = render(message, style, tr, WORDS)
        visible = " ".join([out.text, *(b.label for b in out.buttons)])
        assert revealing(visible, language) == [], f"{language}: {visible!r}"


def test_engine_marks_exactly_the_neutral_lines_as_not_sensitive() -> None:
    """Every line the engine sends as not sensitive (before the gate) is in NEUTRAL."""
    assert m.SNOOZE_OK_DAY in m.NEUTRAL
    for msgid in (m.OPENER, m.REMINDER, m.RESUME, m.DECOY, m.SNOOZE_OK, m.LOCKED, m.CODE_ASK):
        assert msgid in m.NEUTRAL
