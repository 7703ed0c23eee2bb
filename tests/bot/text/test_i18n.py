"""Dates, numbers and plurals in the reader's language; the snooze line says when we are back."""

from __future__ import annotations

import logging
import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.channels.base import Inbound
from bot.channels.console import ConsoleChannel
from bot.enrolment.rules import enrol
from bot.runtime.app import App
from bot.store.consent import Consent
from bot.text.i18n import (
    Translator,
    format_clock,
    format_day,
    format_number,
    operator_language,
    translations,
)
from bot.text.render import ProgrammeWords, render
from conversations import messages as m
from conversations.effects import Line, Outgoing
from tests.bot.conftest import add_programme

TUESDAY = date(2026, 3, 3)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "Tuesday 3 March"),
        ("de", "Dienstag, 3. März"),
        ("es", "martes, 3 de marzo"),
        ("it", "martedì 3 marzo"),
        ("fr", "mardi 3 mars"),
        ("xx", "Tuesday 3 March"),  # unknown: the source language's conventions
    ],
)
def test_format_day_in_the_readers_language(language: str, expected: str) -> None:
    assert format_day(TUESDAY, language) == expected


def test_numbers_and_clock_times_in_the_readers_conventions() -> None:
    assert format_number(1234.5, "en") == "1,234.5"
    assert format_number(1234.5, "de") == "1.234,5"
    assert format_number(1234.5, "fr") == "1\u202f234,5"
    moment = datetime(2026, 7, 1, 12, 30, tzinfo=UTC)
    assert format_clock(moment, "de", "Europe/Berlin") == "14:30"
    assert format_clock(moment, "en", "Europe/London") == "13:30"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"LANG": "de_DE.UTF-8"}, "de"),
        ({"LANGUAGE": "pt:fr", "LANG": "de_DE.UTF-8"}, "fr"),
        ({"LC_ALL": "it_IT.utf8"}, "it"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({}, "en"),
    ],
)
def test_operator_language_from_the_environment(env: dict[str, str], expected: str) -> None:
    assert operator_language(env) == expected


def test_broken_placeholders_never_raise() -> None:
    tr = Translator("de")
    assert "{emergency}" in tr.format(m.HELP, {"unrelated": 1})
    assert tr.nformat("{n} thing {x}", "{n} things {x}", 2) == "{n} things {x}"


def test_exclusive_reprompt_shows_the_label_in_her_language() -> None:
    line = Line(m.REPROMPT_EXCLUSIVE, {"label": "None of these"})
    out = render(Outgoing("reprompt", (line,)), "numbered", Translator("es"), _words())
    assert out.text.startswith("'Nada de esto' no se puede combinar")


def _words() -> ProgrammeWords:
    return ProgrammeWords("Sam", "112", "0800 116 016")


async def _snooze(app: App, language: str, option_words: tuple[str, str]) -> None:
    """Enrol her in ``language`` (Berlin time), open a contact and answer the gate, then snooze."""
    programme_id = await add_programme(app)
    participant = await enrol(
        app.stores, app.config, app.service.survey, programme_id=programme_id, channel="console", language=language,
        timezone="Europe/Berlin", today=date(2026, 11, 24), now=app.service.clock.now(),
        address="console:berta", safe_word="pineapple",
        consent=Consent("v1", date(2026, 11, 20), "Test Worker"),
    )  # fmt: skip
    await app.service.begin_contact(participant.id, "T0")
    for text in option_words:
        await app.service.handle_inbound(Inbound("console", "console:berta", text))
    await app.dispatcher.drain_all()


async def test_snooze_confirmation_names_the_day_in_her_language(
    app: App, console: ConsoleChannel
) -> None:
    await _snooze(app, "de", ("Jetzt nicht", "nächste Woche"))
    confirmation = console.sent[-1]
    # START is Tuesday 24 November 2026, 11:00 in Berlin; next week = Tuesday 1 December.
    assert confirmation.text == "Danke. Bis Dienstag, 1. Dezember."
    assert confirmation.kind == "notice"


async def test_snooze_later_today_keeps_the_short_line(app: App, console: ConsoleChannel) -> None:
    await _snooze(app, "es", ("ahora no", "hoy más tarde"))
    assert console.sent[-1].text == "Gracias. Hablamos pronto."


async def test_snooze_tomorrow_in_english(app: App, console: ConsoleChannel) -> None:
    await _snooze(app, "en", ("not now", "tomorrow"))
    tomorrow = date(2026, 11, 24) + timedelta(days=1)
    assert console.sent[-1].text == f"Thanks. Talk again on {format_day(tomorrow, 'en')}."
    assert console.sent[-1].text == "Thanks. Talk again on Wednesday 25 November."


def test_a_missing_catalog_is_logged_not_silent(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="bot.text.i18n"):
        fallback = translations("de", tmp_path)
    assert fallback.gettext(m.OPENER) == m.OPENER
    assert "no catalog for language 'de'" in caplog.text


def test_locales_dir_can_point_outside_the_checkout(tmp_path: Path) -> None:
    """A non-editable install reads the catalogs from FOLLOWUP_LOCALES_DIR."""
    import subprocess
    import sys

    target = tmp_path / "locales"
    (target / "xx" / "LC_MESSAGES").mkdir(parents=True)
    (target / "xx" / "LC_MESSAGES" / "messages.po").write_text('msgid ""\nmsgstr ""\n')
    code = "from bot.text.i18n import available_languages; print(available_languages())"
    env = {**os.environ, "FOLLOWUP_LOCALES_DIR": str(target)}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "['en', 'xx']"
