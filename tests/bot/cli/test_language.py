"""``followup participant set-language``: staff change her language; audited; plural-aware output."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.main import app as cli
from bot.config import load_config
from bot.enrolment.rules import enrol
from bot.runtime.app import open_app
from bot.store.consent import Consent
from bot.store.participants import NewParticipant
from bot.store.scope import Scope
from tests.bot.conftest import add_programme

runner = CliRunner()


def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "followup.toml"
    path.write_text(
        f'[database]\npath = "{tmp_path / "f.db"}"\n[security]\nkey_file = "{tmp_path / "f.keys"}"\n'
    )
    return path


def enrolled(path: Path, contacts: int = 0) -> str:
    """Enrol an English console participant; open ``contacts`` contacts without sending them."""

    async def go() -> str:
        application = await open_app(load_config(path, env={}), {})
        try:
            programme_id = await add_programme(application)
            participant = await enrol(
                application.stores, application.config, application.service.survey, programme_id=programme_id, channel="console", language="en",
                timezone="Europe/London", today=date(2026, 11, 24),
                now=application.service.clock.now(), address="console:carla", safe_word="pineapple", consent=Consent("v1", date(2026, 11, 20), "Test Worker"),
            )  # fmt: skip
            for _ in range(contacts):
                await application.service.begin_contact(participant.id, "T0")
            return participant.pseudonym
        finally:
            await application.close()

    return asyncio.run(go())


def stored(path: Path, pseudonym: str) -> tuple[str, list[tuple[str, str]]]:
    async def go() -> tuple[str, list[tuple[str, str]]]:
        application = await open_app(load_config(path, env={}), {})
        try:
            participant = await application.service.participants.by_pseudonym(
                pseudonym, Scope.installation()
            )
            assert participant is not None
            rows = await application.db.fetchall(
                "SELECT action, detail FROM audit_log WHERE subject = ? AND action LIKE 'language%'",
                (pseudonym,),
            )
            return participant.language, [(r[0], r[1]) for r in rows]
        finally:
            await application.close()

    return asyncio.run(go())


def set_language(path: Path, *args: str, lang_env: str = "C") -> object:
    return runner.invoke(
        cli,
        ["participant", "set-language", *args, "--config", str(path)],
        env={"LANGUAGE": "", "LC_ALL": "", "LC_MESSAGES": "", "LANG": lang_env},
    )


def test_set_language_changes_it_and_audits(tmp_path: Path) -> None:
    path = config_file(tmp_path)
    pseudonym = enrolled(path)
    result = set_language(path, pseudonym.lower(), "de")
    assert result.exit_code == 0, result.output
    assert f"{pseudonym}: language changed from en to de." in result.output
    assert "queued" not in result.output
    assert stored(path, pseudonym) == ("de", [("language_changed", "en->de")])

    again = set_language(path, pseudonym, "de")
    assert again.exit_code == 0 and "already has language de; nothing changed" in again.output
    assert len(stored(path, pseudonym)[1]) == 1


@pytest.mark.parametrize(("contacts", "expected"), [(1, "1 message already queued for her stays"),
                                                    (2, "2 messages already queued for her stay")])  # fmt: skip
def test_queued_messages_are_counted_with_plural_forms(
    tmp_path: Path, contacts: int, expected: str
) -> None:
    path = config_file(tmp_path)
    pseudonym = enrolled(path, contacts)
    result = set_language(path, pseudonym, "fr")
    assert result.exit_code == 0, result.output
    assert expected in result.output


def test_output_follows_the_operators_language(tmp_path: Path) -> None:
    path = config_file(tmp_path)
    pseudonym = enrolled(path, contacts=2)
    result = set_language(path, pseudonym, "es", lang_env="de_DE.UTF-8")
    assert f"{pseudonym}: Sprache von en auf es geändert." in result.output
    assert "2 Nachrichten, die schon für sie in der Warteschlange stehen" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [(("P-NOONE", "de"), "no participant with pseudonym P-NOONE"),
     (("P-NOONE", "xx"), "no catalog for language 'xx'")],
)  # fmt: skip
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, args: tuple[str, str], message: str
) -> None:
    result = set_language(config_file(tmp_path), *args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_refused_when_her_safe_word_is_a_reply_word_of_the_new_language(tmp_path: Path) -> None:
    """Enrolled before German shipped with safe word 'weiter' (German for SKIP)."""
    path = config_file(tmp_path)

    async def legacy() -> str:
        application = await open_app(load_config(path, env={}), {})
        try:
            programme_id = await add_programme(application)
            new = NewParticipant(
                programme_id=programme_id, channel="console", language="en",
                timezone="Europe/London", enrolled_on=date(2026, 11, 24), safe_word="Weiter",
            )  # fmt: skip
            async with application.db.transaction() as tx:
                created = await application.service.participants.create(
                    tx, new, application.service.clock.now()
                )
            return created.pseudonym
        finally:
            await application.close()

    pseudonym = asyncio.run(legacy())
    refused = set_language(path, pseudonym, "de")
    assert refused.exit_code == 2
    assert "a secret word of hers is a reply word in 'de'" in refused.output
    assert stored(path, pseudonym) == ("en", [])
    assert set_language(path, pseudonym, "fr").exit_code == 0  # 'weiter' means nothing in French
