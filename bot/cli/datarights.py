"""Staff commands for her data: withdraw, erase, retention, export, report, policy.

Every command that shows or exports participant data writes an audit entry.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import typer

from bot.cli import programmes
from bot.cli.common import (
    CliError,
    ConfigOption,
    PseudonymArgument,
    cli_scope,
    config_or_exit,
    fail,
    out,
    run,
)
from bot.cli.network_report import write_network_report
from bot.config import Config
from bot.datarights.access import default_actor, log_access
from bot.datarights.actions import erase, withdraw
from bot.datarights.core import POLICIES, set_withdrawal_policy
from bot.datarights.export import FORMATS, responses, write_export
from bot.datarights.export_coded import ExportError
from bot.datarights.report import escalation_counts, render_report
from bot.datarights.retention import run_retention
from bot.private_files import write_private_text
from bot.runtime.app import App, open_app
from bot.store.participants import Participant, Programme
from bot.store.research import all_records, safe_word_endings
from bot.text.i18n import Translator
from conversations.vocabulary import ParticipantStatus

ByOption = typer.Option(None, "--by", help="Who does this (default: cli:<login name>).")


def register(root: typer.Typer) -> None:
    """``followup withdraw|erase|retention|export|report`` and ``followup programme policy``."""
    root.command("withdraw")(withdraw_command)
    root.command("erase")(erase_command)
    root.command("retention")(retention_command)
    root.command("export")(export_command)
    root.command("report")(report_command)
    programmes.app.command("policy")(policy_command)


async def _participant(application: App, pseudonym: str) -> Participant:
    found = await application.service.participants.by_pseudonym(
        pseudonym, await cli_scope(application.staff)
    )
    if found is None or found.status == ParticipantStatus.ERASED:
        raise CliError(f"no participant with pseudonym {pseudonym}")
    return found


async def _programme(application: App, name: str) -> Programme:
    found = await application.service.programmes.by_name(name, await cli_scope(application.staff))
    if found is None:
        raise CliError(f"no programme named '{name}' (see: followup programme list)")
    return found


def withdraw_command(
    pseudonym: str = PseudonymArgument,
    by: str | None = ByOption,
    config: str | None = ConfigOption,
) -> None:
    """She withdraws: no contact ever again; her answers follow the programme's policy."""
    cfg = config_or_exit(config)
    run(lambda: _withdraw(cfg, pseudonym, by or default_actor()))


async def _withdraw(cfg: Config, pseudonym: str, actor: str) -> None:
    application = await open_app(cfg, {})
    try:
        participant = await _participant(application, pseudonym)
        if participant.status == ParticipantStatus.WITHDRAWN:
            raise CliError(f"{participant.pseudonym} has already withdrawn")
        policy = await withdraw(
            application.stores, application.service.delete_chat, participant, actor
        )
        what = (
            "kept only under an unlinkable research id" if policy == "keep_anonymous" else "erased"
        )
        out.print(f"{participant.pseudonym} withdrawn: no further contact; her answers were {what}")
    finally:
        await application.close()


def erase_command(
    pseudonym: str = PseudonymArgument,
    confirm: bool = typer.Option(False, "--confirm", help="Required: erasure cannot be undone."),
    all_answers: bool = typer.Option(
        False,
        "--all-answers",
        help="Erase her answers even if the programme keeps them anonymously.",
    ),
    by: str | None = ByOption,
    config: str | None = ConfigOption,
) -> None:
    """Erase her: contact details, secret words, tokens, messages, sessions, answers per policy."""
    cfg = config_or_exit(config)
    if not confirm:
        fail("erasure cannot be undone; add --confirm to erase her")
    run(lambda: _erase(cfg, pseudonym, all_answers, by or default_actor()))


async def _erase(cfg: Config, pseudonym: str, all_answers: bool, actor: str) -> None:
    application = await open_app(cfg, {})
    try:
        participant = await _participant(application, pseudonym)
        result = await erase(
            application.stores,
            application.service.delete_chat,
            participant,
            actor,
            all_answers=all_answers,
        )
        out.print(
            f"erased: contact details, secret words, links, sessions, messages; answers {result.answers}"
        )
        if result.chat_deletion_queued:
            out.print(
                "messages still on her phone are being deleted by the running service;"
                " the last nameless trace goes once that is done (at the latest in 3 days)"
            )
    finally:
        await application.close()


def retention_command(
    dry_run: bool = typer.Option(False, "--dry-run", help="Only count what would be deleted."),
    config: str | None = ConfigOption,
) -> None:
    """Delete what has outlived its retention period (see \\[retention] in the config)."""
    cfg = config_or_exit(config)
    run(lambda: _retention(cfg, dry_run))


async def _retention(cfg: Config, dry_run: bool) -> None:
    application = await open_app(cfg, {})
    try:
        counts = await run_retention(
            application.db, cfg.retention, application.service.clock.now(), dry_run=dry_run
        )
        verb = "would delete" if dry_run else "deleted"
        for kind, n in counts.items():
            out.print(f"{verb} {n:>6} {kind.replace('_', ' ')}")
    finally:
        await application.close()


def export_command(
    programme: str = typer.Option(..., "--programme", help="Programme name."),
    fmt: str = typer.Option(
        "csv",
        "--format",
        help="csv, json (answer codes as words), sav (SPSS), dta (Stata) or datapackage"
        " (Frictionless: datapackage.json and CSV).",
    ),
    out_dir: str = typer.Option(..., "--out", help="Directory for the files."),
    wide: bool = typer.Option(
        False, "--wide", help="One row per woman, columns suffixed _t0 ... _t4 (default: long)."
    ),
    by: str | None = ByOption,
    config: str | None = ConfigOption,
) -> None:
    """Research export: coded answers per research id and timepoint, codebook, REDCap
    dictionary, summary."""
    cfg = config_or_exit(config)
    if fmt not in FORMATS:
        fail(f"--format must be one of {', '.join(FORMATS)}, got '{fmt}'")
    request = ExportRequest(programme, fmt, Path(out_dir), wide)
    run(lambda: _export(cfg, request, by or default_actor()))


@dataclass(frozen=True)
class ExportRequest:
    programme: str
    fmt: str
    out_dir: Path
    wide: bool


async def _export(cfg: Config, request: ExportRequest, actor: str) -> None:
    application = await open_app(cfg, {})
    try:
        programme = await _programme(application, request.programme)
        records = await all_records(application.db, application.ring, programme.id)
        translate = Translator(programme.language).gettext
        try:
            files = await asyncio.to_thread(
                partial(write_export, wide=request.wide, translate=translate),
                request.out_dir,
                request.fmt,
                application.service.survey,
                records,
            )
        except OSError as exc:
            raise CliError(f"{request.out_dir}: cannot write ({exc.strerror})") from None
        except ExportError as exc:
            raise CliError(f"nothing exported: {exc}") from None
        if request.wide:
            women = {r.research_id for r in responses(records)}
            written, unit = len(women), "row(s), one per woman"
        else:  # the rows of responses.*, not every planned timepoint
            written, unit = len(responses(records)), "response row(s)"
        layout = "wide" if request.wide else "long"
        await log_access(
            application.db,
            application.service.clock,
            actor,
            "research_export",
            request.programme,
            f"{request.fmt} {layout}, {written} rows",
        )
        out.print(f"{written} {unit}: " + ", ".join(str(f) for f in files))
    finally:
        await application.close()


def report_command(
    programme: str | None = typer.Option(None, "--programme", help="Programme name."),
    out_file: str = typer.Option(..., "--out", help="The HTML file to write."),
    network: bool = typer.Option(
        False, "--network", help="The pooled report of every programme that pools, instead."
    ),
    by: str | None = ByOption,
    config: str | None = ConfigOption,
) -> None:
    """Outcome report: one self-contained HTML page; cells under 5 women suppressed."""
    cfg = config_or_exit(config)
    actor = by or default_actor()
    if network:
        if programme is not None:
            fail("give --programme NAME or --network, not both")
        run(lambda: write_network_report(cfg, Path(out_file), actor))
        return
    if programme is None:
        fail("--programme NAME is required (or --network for the pooled report)")
    name = programme
    run(lambda: _report(cfg, name, Path(out_file), actor))


async def _report(cfg: Config, name: str, out_file: Path, actor: str) -> None:
    application = await open_app(cfg, {})
    try:
        programme = await _programme(application, name)
        records = await all_records(application.db, application.ring, programme.id)
        levels = await escalation_counts(application.db, programme.id)
        endings = await safe_word_endings(application.db, application.ring, programme.id)
        html = render_report(name, records, levels, endings, application.service.clock.now())
        try:
            await asyncio.to_thread(_write, out_file, html)
        except OSError as exc:
            raise CliError(f"{out_file}: cannot write ({exc.strerror})") from None
        await log_access(
            application.db,
            application.service.clock,
            actor,
            "outcome_report",
            name,
            str(out_file.name),
        )
        out.print(f"report written to {out_file}")
    finally:
        await application.close()


def _write(path: Path, text: str) -> None:
    write_private_text(path, text)


def policy_command(
    name: str = typer.Argument(..., help="Programme name."),
    on_withdrawal: str = typer.Option(
        ..., "--on-withdrawal", help="erase, or keep_anonymous (answers kept under a research id)."
    ),
    by: str | None = ByOption,
    config: str | None = ConfigOption,
) -> None:
    """Set what happens to a woman's answers when she withdraws or is erased."""
    cfg = config_or_exit(config)
    if on_withdrawal not in POLICIES:
        fail(f"--on-withdrawal must be one of {', '.join(POLICIES)}, got '{on_withdrawal}'")
    run(lambda: _policy(cfg, name, on_withdrawal, by or default_actor()))


async def _policy(cfg: Config, name: str, policy: str, actor: str) -> None:
    application = await open_app(cfg, {})
    try:
        programme = await _programme(application, name)
        now = application.stores.clock.now()
        await set_withdrawal_policy(application.db, programme, policy, actor, now)
        answers = "kept anonymous" if policy == "keep_anonymous" else "erased"
        out.print(f"{name}: on withdrawal, answers are {answers}")
    finally:
        await application.close()
