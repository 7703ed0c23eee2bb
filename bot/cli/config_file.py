"""``followup check-config FILE``: a config file checked before anything runs on it."""

from __future__ import annotations

import typer

from bot.cli.common import config_or_exit, fail, out
from bot.text.surveys import load_survey
from conversations.loader import SurveyError


def check_config(config: str | None = typer.Argument(None, help="The TOML file to check.")) -> None:
    """Validate a config file: names the key and the problem, exit 2 if anything is wrong."""
    cfg = config_or_exit(config)
    try:
        load_survey(cfg.survey.file)
    except SurveyError as exc:
        fail(str(exc))
    out.print(f"{cfg.source}: OK")
    load_survey.cache_clear()


def register(root: typer.Typer) -> None:
    """``followup check-config``."""
    root.command("check-config")(check_config)
