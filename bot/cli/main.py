"""The ``followup`` command: one entry point for staff and operators."""

from __future__ import annotations

import typer

from bot.cli import (
    console_cmds,
    datarights_cmd,
    escalation_cmds,
    language_cmd,
    participants,
    programmes,
    staff_cmds,
    staff_login_cmd,
    waves,
)
from bot.cli.common import ConfigOption, config_or_exit, out, run
from bot.cli.contact_cmd import contact_command
from bot.cli.enrol_cmd import enrol_command
from bot.cli.run_cmd import run_command

app = typer.Typer(
    name="followup",
    help="Partner follow-up surveys over Telegram, SMS and the console.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(programmes.app, name="programme")
app.command("enrol")(enrol_command)
app.command("run")(run_command)
app.add_typer(staff_cmds.app, name="staff")
app.add_typer(escalation_cmds.app, name="escalations")
programmes.app.command("set-routes")(staff_cmds.set_routes)
app.command("audit")(escalation_cmds.audit_command)
datarights_cmd.register(app)
participants.register(app)
participants.app.command("set-language")(language_cmd.set_language)
waves.register(app)
app.command("contact")(contact_command)
staff_cmds.app.command("set-password")(staff_login_cmd.set_password)


@app.command()
def demo(
    language: str = typer.Option(
        "en", "--language", "-l", help="Her language (en, de, es, it, fr)."
    ),
    safe_word: str = typer.Option("pineapple", help="Safe word for the demo participant."),
    code_word: str = typer.Option("bluebird", help="Code word asked before the first question."),
    no_code_word: bool = typer.Option(False, "--no-code-word", help="Enrol without a code word."),
    duress_word: str = typer.Option("", help="Optional duress word."),
    address: str = typer.Option("", help="Her console address (default: a new random one)."),
    config: str | None = ConfigOption,
) -> None:
    """Enrol a demo participant and run T0 in the terminal (console channel, local SQLite)."""
    cfg = config_or_exit(config)
    run(
        lambda: console_cmds.demo(
            cfg,
            language,
            safe_word,
            None if no_code_word else code_word,
            duress_word or None,
            address or None,
        )
    )


@app.command()
def chat(
    pseudonym: str = typer.Argument(..., help="Her pseudonym, e.g. P-7QX3K."),
    timepoint: str = typer.Option("T0", "--timepoint", "-t", help="T0..T4"),
    config: str | None = ConfigOption,
) -> None:
    """Chat in the terminal as an existing console participant."""
    if timepoint not in ("T0", "T1", "T2", "T3", "T4"):
        from bot.cli.common import fail

        fail(f"--timepoint must be one of T0, T1, T2, T3, T4, got {timepoint!r}")
    cfg = config_or_exit(config)
    run(lambda: console_cmds.chat(cfg, pseudonym, timepoint))


@app.command("check-config")
def check_config(config: str | None = typer.Argument(None, help="The TOML file to check.")) -> None:
    """Validate a config file: names the key and the problem, exit 2 if anything is wrong."""
    cfg = config_or_exit(config)
    from bot.text.surveys import load_survey

    run(_load_survey_async(cfg.survey.file))
    out.print(f"{cfg.source}: OK")
    load_survey.cache_clear()


async def _load_survey_async(path: str) -> None:
    from bot.text.surveys import load_survey

    load_survey(path)


def main() -> None:
    app()
