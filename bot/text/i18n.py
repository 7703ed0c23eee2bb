"""Translations from the gettext catalogs in ``locales/`` (Babel), and dates/numbers per reader.

Catalogs are read from the ``.po`` files and compiled in memory, so a fresh
checkout needs no build step and no ``.mo`` file is built or committed; fuzzy
entries are left out, as gettext would. Dates and numbers that reach a reader
(her, or a staff member) go through ``format_day``/``format_number`` in that
reader's language.
"""

from __future__ import annotations

import functools
import io
import logging
import os
import re
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.core import Locale, UnknownLocaleError
from babel.dates import format_date, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

log = logging.getLogger(__name__)

#: The catalogs of the checkout; FOLLOWUP_LOCALES_DIR points elsewhere (e.g. a non-editable install).
LOCALES_DIR = Path(
    os.environ.get("FOLLOWUP_LOCALES_DIR") or Path(__file__).resolve().parents[2] / "locales"
)
DOMAIN = "messages"
SOURCE_LANGUAGE = "en"

#: Regional conventions for formatting, where the bare language would pick another
#: region's: our English readers are in Europe ("Tuesday 3 March", not "Tuesday, March 3").
FORMAT_LOCALES: Mapping[str, str] = {"en": "en_GB"}

#: Environment variables that name the operator's language, in gettext's order.
LANGUAGE_ENV = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")


def available_languages(locales_dir: Path = LOCALES_DIR) -> list[str]:
    """Languages with a catalog, plus the source language."""
    found = {p.parent.parent.name for p in locales_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po")}
    return sorted(found | {SOURCE_LANGUAGE})


@functools.cache
def translations(language: str, locales_dir: Path = LOCALES_DIR) -> NullTranslations:
    """The catalog for ``language`` (English source text when there is none)."""
    po_path = locales_dir / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po_path.exists():
        if language != SOURCE_LANGUAGE:  # she would silently get English: make it visible
            log.error("no catalog for language %r in %s; English is used", language, locales_dir)
        return NullTranslations()
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


class Translator:
    """gettext for one language, with named placeholders filled safely."""

    def __init__(self, language: str) -> None:
        self.language = language
        self._t = translations(language)

    def gettext(self, msgid: str) -> str:
        return self._t.gettext(msgid)

    def pgettext(self, context: str, msgid: str) -> str:
        return str(self._t.pgettext(context, msgid))

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._t.ngettext(singular, plural, n)

    def format(self, msgid: str, params: dict[str, str | int] | None = None) -> str:
        """The translation with ``{name}`` placeholders filled."""
        text = self.gettext(msgid)
        if not params:
            return text
        return _fill(text, msgid, params)

    def nformat(
        self, singular: str, plural: str, n: int, params: dict[str, str | int] | None = None
    ) -> str:
        """The plural form for ``n``, filled; ``{n}`` is the count in this reader's digits."""
        text = self.ngettext(singular, plural, n)
        values: dict[str, str | int] = {"n": format_number(n, self.language), **(params or {})}
        return _fill(text, singular if n == 1 else plural, values)


def _fill(text: str, source: str, params: Mapping[str, str | int]) -> str:
    """Fill placeholders; a broken translation falls back to the source, and never raises."""
    for candidate in (text, source):
        try:
            return candidate.format(**params)
        except (KeyError, IndexError, ValueError):
            log.warning("placeholders do not fit msgid %r", source[:60])
    return text


def babel_locale(language: str) -> Locale:
    """The Babel locale used to format dates and numbers for a reader of ``language``."""
    try:
        return Locale.parse(FORMAT_LOCALES.get(language, language))
    except (UnknownLocaleError, ValueError):
        return Locale.parse(FORMAT_LOCALES[SOURCE_LANGUAGE])


@functools.cache
def _day_pattern(language: str) -> str:
    """Weekday, day and month in full, in the locale's own order: 'EEEE d MMMM', 'EEEE, d. MMMM'."""
    skeletons = babel_locale(language).datetime_skeletons
    base = skeletons.get("MMMMEd") or skeletons.get("MMMEd")
    pattern = str(base.pattern) if base is not None else "EEEE d MMMM"
    pattern = re.sub(r"E+", "EEEE", pattern)
    return re.sub(r"(?<!M)M{3}(?!M)", "MMMM", pattern)


def format_day(day: date, language: str) -> str:
    """A day as a reader says it, no year: 'Tuesday 3 March', 'Dienstag, 3. März', 'martes, 3 de marzo'."""
    return format_date(day, _day_pattern(language), locale=babel_locale(language))


def format_clock(moment: datetime, language: str, zone: str) -> str:
    """The local time of ``moment`` in ``zone``, short form for that reader ('14:30', '2:30 pm')."""
    return format_time(moment.astimezone(ZoneInfo(zone)), "short", locale=babel_locale(language))


def format_number(value: int | float, language: str) -> str:
    """A number with the reader's separators: 1,234.5 / 1.234,5 / 1 234,5."""
    return format_decimal(value, locale=babel_locale(language))


def operator_language(env: Mapping[str, str] | None = None, locales_dir: Path = LOCALES_DIR) -> str:
    """The CLI operator's language from LANGUAGE/LC_ALL/LC_MESSAGES/LANG, if we ship it; else English."""
    source = os.environ if env is None else env
    shipped = set(available_languages(locales_dir))
    for name in LANGUAGE_ENV:
        for part in source.get(name, "").split(":"):
            code = part.split(".")[0].split("@")[0].split("_")[0].lower()
            if code in shipped:
                return code
    return SOURCE_LANGUAGE
