"""Words she types in her language: commands, yes/no, choice labels, digits, and her safe word.

Every shipped language is checked the same way; the German and Spanish cases
walk the real engine with what a woman would actually type.
"""

from __future__ import annotations

import re
from itertools import combinations

import pytest

from bot.enrolment.rules import EnrolmentError, check_secret_words, reserved_words
from bot.text.i18n import Translator
from bot.text.words import lexicon_for
from conversations import build
from conversations import messages as m
from conversations.effects import EndSession, SaveAnswer, Send, Snooze
from conversations.engine import Context
from conversations.lexicon import CARRIER_START, CARRIER_STOP, COMMANDS
from conversations.parsing import match_choice, parse_answer
from conversations.text import fold
from tests.conversations.conftest import Driver, secrets
from tests.locales.support_locales import LANGUAGES, survey

CAPS_WORD = re.compile(r"\b[A-ZÀ-ÖØ-Þ]{3,}\b")


def answerable() -> list[str]:
    return [item.id for item in survey().items if item.effective_choices()]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_translated_label_typed_in_full_picks_its_choice(language: str) -> None:
    lexicon, tr = lexicon_for(language), Translator(language)
    for item_id in answerable():
        item = survey().item(item_id)
        for choice in item.effective_choices():
            label = tr.gettext(choice.label)
            for typed in (label, label.upper(), f" {fold(label)}! "):
                assert not any(lexicon.means(typed, c) for c in COMMANDS), (language, typed)
                parsed = parse_answer(item, typed, None, lexicon)
                expected = [choice.code] if item.type == "multi" else choice.code
                assert parsed.value == expected, f"{language} {item_id}: {typed!r} -> {parsed}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_labels_of_one_question_differ_once_folded(language: str) -> None:
    tr = Translator(language)
    for item_id in answerable():
        labels = [fold(tr.gettext(c.label)) for c in survey().item(item_id).effective_choices()]
        assert len(set(labels)) == len(labels), (language, item_id, labels)


@pytest.mark.parametrize("language", LANGUAGES)
def test_engine_choices_gate_snooze_help_match_in_her_words(language: str) -> None:
    lexicon, tr = lexicon_for(language), Translator(language)
    engine_choices = (build.GATE_CHOICES, build.CONSENT_CHOICES, build.SNOOZE_CHOICES,
                      build.HELP_CHOICES)  # fmt: skip
    for choices in engine_choices:
        for choice in choices:
            assert match_choice(tr.gettext(choice.label), choices, lexicon) == choice.code


@pytest.mark.parametrize("language", LANGUAGES)
def test_command_words_named_in_the_instructions_work(language: str) -> None:
    lexicon, tr = lexicon_for(language), Translator(language)
    skip, back, later = CAPS_WORD.findall(tr.gettext(m.HOW_TO))
    assert lexicon.means(skip, "skip") and lexicon.means(back, "back")
    assert lexicon.means(later, "later")
    (offered,) = CAPS_WORD.findall(tr.gettext(m.OFFER_SKIP))
    assert lexicon.means(offered, "skip") and lexicon.means(offered.lower(), "skip")


@pytest.mark.parametrize("language", LANGUAGES)
def test_english_words_and_digits_always_work(language: str) -> None:
    lexicon = lexicon_for(language)
    for word in ("skip", "back", "later"):
        assert lexicon.means(word.upper(), word)
    assert lexicon.means("Yes", "yes") and lexicon.means("no", "no")
    for item_id in answerable():
        item = survey().item(item_id)
        first = item.effective_choices()[0].code
        assert parse_answer(item, " 1 ", None, lexicon).value in (first, [first])


@pytest.mark.parametrize("language", LANGUAGES)
def test_words_of_one_phase_never_mean_two_things(language: str) -> None:
    words = lexicon_for(language).keywords
    phases = (("skip", "back", "later"), ("yes", "not_now"), ("go_on", "stop_now"),
              ("later_today", "tomorrow", "next_week"), ("yes", "no"))  # fmt: skip
    for phase in phases:
        for a, b in combinations(phase, 2):
            assert not words[a] & words[b], f"{language}: {a}/{b}: {words[a] & words[b]}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_typed_word_is_a_carrier_stop_or_start(language: str) -> None:
    """Carrier keywords are handled before anything else; a keyword list must not shadow them."""
    for meaning, words in lexicon_for(language).keywords.items():
        assert not words & (CARRIER_STOP | CARRIER_START), (language, meaning)


# --- her words through the real engine, German and Spanish -----------------------

TYPED = {
    "de": {"not_now": "Jetzt nicht", "tomorrow": "morgen", "yes": "Ja", "no": "nein",
           "skip": "Weiter", "back": "zurück", "later": "Später", "next_week": "nächste Woche"},
    "es": {"not_now": "ahora no", "tomorrow": "Mañana", "yes": "sí", "no": "No",
           "skip": "saltar", "back": "atrás", "later": "pausa", "next_week": "la semana que viene"},
    "it": {"not_now": "non adesso", "tomorrow": "domani", "yes": "si", "no": "no",
           "skip": "salta", "back": "indietro", "later": "più tardi", "next_week": "settimana prossima"},
    "fr": {"not_now": "pas maintenant", "tomorrow": "Demain", "yes": "oui", "no": "non",
           "skip": "passer", "back": "retour", "later": "plus tard", "next_week": "la semaine prochaine"},
}  # fmt: skip


def driver(language: str) -> Driver:
    return Driver(survey(), Context(secrets=secrets("ananás"), lexicon=lexicon_for(language)))


@pytest.mark.parametrize("language", sorted(TYPED))
def test_not_now_and_tomorrow_in_her_words_snooze(language: str) -> None:
    words, d = TYPED[language], driver(language)
    d.begin()
    d.say(words["not_now"])
    assert d.state.phase == "snooze"
    assert Snooze("tomorrow") in d.say(words["tomorrow"])


@pytest.mark.parametrize("language", sorted(TYPED))
def test_yes_no_skip_back_later_in_her_words(language: str) -> None:
    words, d = TYPED[language], driver(language)
    d.begin()
    d.say(words["yes"])  # gate
    assert d.state.phase == "consent"
    d.say(words["yes"])  # still OK to ask
    assert d.state.current == "safe_now"
    saved = [e for e in d.say(words["yes"]) if isinstance(e, SaveAnswer)]
    assert [(e.item_id, e.answer.value) for e in saved] == [("safe_now", "yes")]
    d.say(words["back"])
    assert d.state.current == "safe_now"
    d.say(words["no"])
    assert d.state.answers["safe_now"].value == "no" and d.state.current == "help_now"
    d.say(words["skip"])
    assert d.state.answers["help_now"].skipped and d.state.current == "viol_physical"
    assert EndSession("later") in d.say(words["later"])


@pytest.mark.parametrize("language", sorted(TYPED))
def test_next_week_in_her_words(language: str) -> None:
    d = driver(language)
    d.begin()
    d.say(TYPED[language]["not_now"])
    assert Snooze("next_week") in d.say(TYPED[language]["next_week"])


# --- safe word: accents and case folded in every language -----------------------

SAFE_WORDS = [
    ("Ananás", ("ananas", "ANANAS!", "sí, Ananás.", "mi ananas")),
    ("Straße", ("STRASSE", "strasse", "die Straße?")),
    ("Garçon", ("garcon", "GARÇON", "c'est garcon")),
    ("caffè", ("Caffe", "CAFFÈ!!", "un caffe")),
    ("Niño", ("nino", "NIÑO", "el nino")),
    ("Kürbis", ("kurbis", "KÜRBIS", "ein Kurbis bitte")),
]


@pytest.mark.parametrize(("safe", "typed"), SAFE_WORDS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_safe_word_folds_accents_and_case(language: str, safe: str, typed: tuple[str, ...]) -> None:
    for text in typed:
        d = Driver(survey(), Context(secrets=secrets(safe), lexicon=lexicon_for(language)))
        d.begin()
        d.say(Translator(language).gettext("Yes"))
        effects = d.say(text)
        assert EndSession("safe_word") in effects, (language, safe, text)
        decoys = [e for e in effects if isinstance(e, Send)]
        assert [s.message.lines[0].msgid for s in decoys] == [m.DECOY]


def test_a_different_word_is_not_the_safe_word() -> None:
    d = Driver(survey(), Context(secrets=secrets("Ananás"), lexicon=lexicon_for("es")))
    d.begin()
    d.say("sí", "sí")  # the gate, then consent
    assert d.state.phase == "question" and EndSession("safe_word") not in d.say("ananasa")


# --- enrolment refuses secret words that are reply words in any shipped language ---


@pytest.mark.parametrize(
    "word",
    ["Weiter", "zurück", "Nein", "morgen", "Überhaupt", "saltar", "Mañana", "nunca", "ahora",
     "pausa", "jamais", "passer", "domani", "indietro", "niente"],
)  # fmt: skip
def test_enrolment_refuses_reply_words_of_every_language(word: str) -> None:
    with pytest.raises(EnrolmentError, match="reply or carrier keyword"):
        check_secret_words(survey(), word, None, None)
    with pytest.raises(EnrolmentError, match="reply or carrier keyword"):
        check_secret_words(survey(), "pineapple", word, None)


def test_reserved_words_grow_with_each_language() -> None:
    english = reserved_words(survey(), ["en"])
    assert "weiter" not in english and "manana" not in english
    everything = reserved_words(survey(), LANGUAGES)
    assert {"weiter", "zuruck", "manana", "saltar", "domani", "jamais"} <= everything


@pytest.mark.parametrize("word", ["Kaktus", "mariposa", "girasole", "tournesol", "pineapple"])
def test_ordinary_words_are_still_accepted(word: str) -> None:
    check_secret_words(survey(), word, None, None)


@pytest.mark.parametrize(
    "word",
    ["S\u200bTOP", "ѕtop", "ΥEAH", "wei\u00adter", "Mañ\u200dana", "stopall", "goon", "notnow",
     "STΟPALL", "optout"],
)  # fmt: skip
def test_enrolment_refuses_disguised_and_joined_reply_words(word: str) -> None:
    """Matching folds invisible characters and look-alikes and joins split words, so
    enrolment must refuse what would fold into a reply or carrier keyword that way."""
    with pytest.raises(EnrolmentError, match="reply or carrier keyword"):
        check_secret_words(survey(), word, None, None)


def test_enrolment_refuses_a_secret_word_too_long_to_be_found_split() -> None:
    with pytest.raises(EnrolmentError, match="at most 32 letters"):
        check_secret_words(survey(), "a" * 33, None, None)
