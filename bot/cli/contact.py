"""``followup contact P-XXXXX --timepoint T0``: open one contact now, outside any wave.

The opener is written to the outbox; a running ``followup run`` sends it (it polls
the outbox every few seconds), or the next one started does.
"""

from __future__ import annotations

import typer

from bot.cli.common import (
    CliError,
    ConfigOption,
    PseudonymArgument,
    TimepointOption,
    cli_scope,
    config_or_exit,
    out,
    run,
)
from bot.cli.validate import check_timepoint
from bot.config import Config
from bot.runtime.app import open_app
from conversations.vocabulary import ParticipantStatus, Phase


def contact_command(
    pseudonym: str = PseudonymArgument,
    timepoint: str = TimepointOption,
    config: str | None = ConfigOption,
) -> None:
    """Send her the neutral opener for a timepoint now (her safe window is not checked)."""
    check_timepoint(timepoint)
    cfg = config_or_exit(config)
    run(lambda: _contact(cfg, pseudonym, timepoint))


async def _contact(cfg: Config, pseudonym: str, timepoint: str) -> None:
    application = await open_app(cfg, {})
    try:
        service = application.service
        participant = await service.participants.by_pseudonym(
            pseudonym, await cli_scope(application.staff)
        )
        if participant is None:
            raise CliError(f"no participant {pseudonym}")
        if participant.status != ParticipantStatus.ACTIVE:
            raise CliError(f"{pseudonym} is {participant.status}; contact is not opened")
        report = await service.begin_contact(participant.id, timepoint)
        if report is None or report.state.phase != Phase.GATE:
            raise CliError(f"{pseudonym} {timepoint} is already under way or over")
        out.print(f"{timepoint} opener queued for {pseudonym} on {participant.channel}")
    finally:
        await application.close()


def register(root: typer.Typer) -> None:
    """``followup contact``."""
    root.command("contact")(contact_command)
