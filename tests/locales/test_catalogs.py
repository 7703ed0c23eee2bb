"""The shipped catalogs are complete, clean and match the code: a new string without
translations, a fuzzy or empty entry, or a lost placeholder fails here."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from babel.messages.catalog import Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.plurals import get_plural

from bot.text.i18n import LOCALES_DIR, SOURCE_LANGUAGE, Translator, format_number, translations
from conversations import messages as m
from tests.locales.support_locales import LANGUAGES, SHIPPED, TRANSLATED, catalog, template

ROOT = LOCALES_DIR.parent
#: The keywords `make translations` passes on top of Babel's defaults.
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None, "pgettext": ((1, "c"), 2), "nformat": (1, 2)}
REVIEW_NOTE = "AWAITING REVIEW BY NATIVE-SPEAKING PRACTITIONERS"

Key = tuple[str | None, str]


def key(message: Message) -> Key:
    ident = message.id[0] if isinstance(message.id, tuple | list) else message.id
    return (message.context, ident)


def entries(language: str) -> list[Message]:
    return [msg for msg in catalog(language) if msg.id]


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def strings(message: Message) -> list[str]:
    value = message.string
    return list(value) if isinstance(value, tuple | list) else [value]


def sources(message: Message) -> list[str]:
    return list(message.id) if isinstance(message.id, tuple | list) else [message.id]


def test_every_promised_language_ships() -> None:
    assert set(SHIPPED) <= set(LANGUAGES)
    for language in TRANSLATED:  # a missing catalog would silently fall back to English
        assert Translator(language).gettext(m.OPENER) != m.OPENER, language


def test_template_is_up_to_date_with_code_and_surveys() -> None:
    """`make translations` was run: the .pot holds exactly what the code and surveys say."""
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    extracted = {
        (context, msgid[0] if isinstance(msgid, tuple) else msgid)
        for _file, _line, msgid, _comments, context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS, comment_tags=("Translators:",)
        )
        if msgid
    }
    in_template = {key(msg) for msg in template() if msg.id}
    assert extracted - in_template == set(), "new strings: run `make translations` and translate"
    assert in_template - extracted == set(), (
        "stale strings in messages.pot: run `make translations`"
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalog_covers_exactly_the_template(language: str) -> None:
    wanted = [key(msg) for msg in template() if msg.id]
    have = [key(msg) for msg in entries(language)]
    assert set(wanted) - set(have) == set(), f"{language}: missing entries"
    assert set(have) - set(wanted) == set(), f"{language}: entries no longer in the template"
    assert have == wanted, f"{language}: not in template order (run `make translations`)"
    assert not catalog(language).obsolete, f"{language}: obsolete entries left in the file"


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_fuzzy_entry(language: str) -> None:
    fuzzy = [msg.id for msg in entries(language) if msg.fuzzy]
    assert fuzzy == []
    assert not catalog(language).fuzzy, f"{language}: the header is marked fuzzy"


@pytest.mark.parametrize("language", TRANSLATED)
def test_no_untranslated_entry(language: str) -> None:
    empty = [msg.id for msg in entries(language) if not all(s.strip() for s in strings(msg))]
    assert empty == []
    # What gettext will actually serve: every entry compiled in, none falling back.
    compiled = translations(language)
    assert len(compiled._catalog) >= len(entries(language))  # type: ignore[attr-defined]


def test_english_is_the_source_with_empty_translations() -> None:
    filled = [msg.id for msg in entries(SOURCE_LANGUAGE) if any(strings(msg))]
    assert filled == []


@pytest.mark.parametrize("language", TRANSLATED)
def test_placeholders_match_the_source_and_parse(language: str) -> None:
    for msg in entries(language):
        wanted = set().union(*(placeholders(s) for s in sources(msg)))
        for text in strings(msg):
            got = placeholders(text)  # raises ValueError on a broken brace
            assert got == wanted, f"{language}: {msg.id!r}: {sorted(got)} != {sorted(wanted)}"
            if wanted:
                assert "python-brace-format" in msg.flags, msg.id
                text.format(**dict.fromkeys(wanted, "x"))


@pytest.mark.parametrize("language", TRANSLATED)
def test_headers_and_review_note(language: str) -> None:
    cat = catalog(language)
    assert REVIEW_NOTE in cat.header_comment, f"{language}: header must say review is pending"
    assert "Register:" in cat.header_comment
    assert str(cat.locale) == language
    assert cat.plural_forms == get_plural(language).plural_forms
    raw = (LOCALES_DIR / language / "LC_MESSAGES" / "messages.po").read_text("utf-8")
    unwrapped = raw.replace('"\n"', "")  # pybabel wraps long header lines
    assert f'"Language: {language}\\n"' in raw
    assert f"Plural-Forms: {get_plural(language).plural_forms}\\n" in unwrapped
    assert "#, fuzzy" not in raw and "\n#~ " not in raw


@pytest.mark.parametrize("language", TRANSLATED)
def test_plural_forms_follow_the_language(language: str) -> None:
    tr = Translator(language)
    one = tr.nformat(
        "{n} message already queued for her stays in the old language.",
        "{n} messages already queued for her stay in the old language.",
        1,
    )
    many = tr.nformat(
        "{n} message already queued for her stays in the old language.",
        "{n} messages already queued for her stay in the old language.",
        1234,
    )
    assert one.startswith("1 ") and one != many
    assert many.startswith(f"{format_number(1234, language)} ")  # the reader's digits


def test_french_zero_is_singular_as_cldr_says() -> None:
    tr = Translator("fr")
    singular, plural = (
        "{n} message already queued for her stays in the old language.",
        ("{n} messages already queued for her stay in the old language."),
    )
    assert "reste " in tr.nformat(singular, plural, 0)
    assert "restent " in tr.nformat(singular, plural, 2)


def test_no_mo_files_are_committed_or_needed() -> None:
    assert not list(Path(LOCALES_DIR).glob("*/LC_MESSAGES/*.mo"))
