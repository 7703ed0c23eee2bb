"""``followup run``: the service, until SIGTERM."""

from __future__ import annotations

import typer

from bot.cli.common import ConfigOption, config_or_exit, err, run
from bot.config import Config
from bot.enrolment.requests import enrol_request
from bot.runtime.app import App, build_channels, open_app
from bot.runtime.component import Component
from bot.runtime.components import build_components
from bot.runtime.logging_setup import setup_logging
from bot.runtime.serve import serve
from bot.schedule.waves import list_waves
from bot.web.dashboard import Dashboard


def run_command(config: str | None = ConfigOption) -> None:
    """Run the service: web endpoints, channels, scheduler and outbox in one process."""
    cfg = config_or_exit(config)
    setup_logging(cfg.logging.level)
    run(lambda: _run(cfg), fast_loop=True)  # uvloop: the service is the one hot loop


async def _run(cfg: Config) -> None:
    channels = build_channels(cfg)
    if not channels:
        err.print(
            "[yellow]warning:[/] no channel configured (telegram.token / sms.account_sid);"
            " running scheduler and web only"
        )
    application = await open_app(cfg, channels)
    try:
        await serve(application, service_components(application))
    finally:
        await application.close()


def service_components(application: App) -> list[Component]:
    """Everything ``followup run`` runs: the runtime's parts and the staff desk."""
    desk = Dashboard(
        application.stores,
        application.config,
        application.desk,
        wake=application.dispatcher.wake,
        list_waves=lambda scope: list_waves(application.stores, scope),
        enrol=lambda request, actor, scope: enrol_request(
            application.stores,
            application.config,
            application.service.survey,
            request,
            actor,
            scope,
        ),
    )
    return [*build_components(application), desk]


def register(root: typer.Typer) -> None:
    """``followup run``."""
    root.command("run")(run_command)
