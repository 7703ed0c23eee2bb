"""Translations from the gettext catalogs in ``locales/`` (Babel).

Catalogs are read from the ``.po`` files and compiled in memory, so a fresh
checkout needs no build step; fuzzy entries are left out, as gettext would.
"""

from __future__ import annotations

import functools
import io
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"
SOURCE_LANGUAGE = "en"


def available_languages(locales_dir: Path = LOCALES_DIR) -> list[str]:
    """Languages with a catalog, plus the source language."""
    found = {p.parent.parent.name for p in locales_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po")}
    return sorted(found | {SOURCE_LANGUAGE})


@functools.cache
def translations(language: str, locales_dir: Path = LOCALES_DIR) -> NullTranslations:
    """The catalog for ``language`` (English source text when there is none)."""
    po_path = locales_dir / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po_path.exists():
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
        text = self.gettext(msgid)
        if not params:
            return text
        try:
            return text.format(**params)
        except (KeyError, IndexError, ValueError):
            return msgid.format(**params)
