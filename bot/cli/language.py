"""``followup participant set-language P-XXXXX xx``: staff change the language she is asked in.

Her words (yes, skip, labels...) and every message rendered from then on follow the
new language; messages already queued were rendered in the old one, and the
command says how many. The change is audited, and refused if one of her secret
words is an ordinary reply in the new language (a catalog added after her
enrolment): an everyday answer would otherwise end her session as a safe word. What it prints is in the
operator's language (LANGUAGE/LANG), with plural forms from the catalog.
"""

from __future__ import annotations

import typer

from bot.cli import participants
from bot.cli.common import (
    CliError,
    ConfigOption,
    PseudonymArgument,
    cli_scope,
    config_or_exit,
    out,
    run,
)
from bot.cli.validate import check_language
from bot.config import Config
from bot.enrolment.rules import reserved_words
from bot.runtime.app import open_app
from bot.store.housekeeping import audit
from bot.text.i18n import Translator, operator_language


def N_(message: str) -> str:
    """Mark for extraction; translated when printed, in the operator's language."""
    return message


CHANGED = N_("{pseudonym}: language changed from {old} to {new}.")
UNCHANGED = N_("{pseudonym} already has language {new}; nothing changed.")


def set_language(
    pseudonym: str = PseudonymArgument,
    language: str = typer.Argument(..., help="en, de, es, it or fr."),
    config: str | None = ConfigOption,
) -> None:
    """Change the language she is asked in (audited)."""
    cfg = config_or_exit(config)
    check_language(language)
    for line in run(
        lambda: _set_language(cfg, pseudonym, language, Translator(operator_language()))
    ):
        out.print(line)


async def _set_language(cfg: Config, pseudonym: str, language: str, tr: Translator) -> list[str]:
    application = await open_app(cfg, {})
    try:
        service = application.service
        participant = await service.participants.by_pseudonym(
            pseudonym, await cli_scope(application.staff)
        )
        if participant is None:
            raise CliError(f"no participant with pseudonym {pseudonym}")
        params: dict[str, str | int] = {
            "pseudonym": participant.pseudonym,
            "old": participant.language,
            "new": language,
        }
        if participant.language == language:
            return [tr.format(UNCHANGED, params)]
        secrets = participant.secrets(application.ring)
        if any(
            secrets.has_safe_word(word)
            or secrets.has_duress_word(word)
            or secrets.is_code_word(word)
            for word in reserved_words(service.survey, [language])
        ):
            raise CliError(
                f"{participant.pseudonym}: a secret word of hers is a reply word in '{language}';"
                " language not changed"
            )
        now = service.clock.now()
        async with application.db.transaction() as tx:
            await service.participants.set_language(tx, participant.id, language, now)
            await audit(
                tx, now, "cli", "language_changed", participant.pseudonym,
                f"{participant.language}->{language}",
            )  # fmt: skip
        lines = [tr.format(CHANGED, params)]
        queued = await application.stores.outbox.queued_messages_to(participant.id)
        if queued:
            lines.append(
                tr.nformat(
                    "{n} message already queued for her stays in the old language.",
                    "{n} messages already queued for her stay in the old language.",
                    queued,
                )
            )
        return lines
    finally:
        await application.close()


def register(root: typer.Typer) -> None:
    """``followup participant set-language``."""
    participants.app.command("set-language")(set_language)
