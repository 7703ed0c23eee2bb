"""``followup escalations list|show|ack|resolve|note`` and ``followup audit``.

Ack, resolve and note go through the same Desk as the Telegram buttons and SMS
replies; ``--by`` must name a staff member so the audit log says who acted.
"""

from __future__ import annotations

import getpass
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from rich.table import Table

from bot.cli.common import CliError, ConfigOption, cli_scope, config_or_exit, fail, out, run
from bot.cli.secret_input import SecretInput
from bot.config import Config
from bot.escalation.content import REASON_LABELS
from bot.escalation.desk import LEVELS, EscalationNotFound
from bot.runtime.app import App, open_app
from bot.store.audit_trail import newest_entries
from bot.store.scope import Scope
from bot.text.i18n import Translator

T = TypeVar("T")
app = typer.Typer(help="Escalations to the women's support service.", no_args_is_help=True)
ByOption = typer.Option(..., "--by", help="Your staff name (see followup staff list).")
NoteOption = typer.Option(
    None,
    "--note",
    help="A note for the record (stored encrypted); '-' to type it hidden or pipe it.",
)


async def _with_app(cfg: Config, body: Callable[[App], Awaitable[T]]) -> T:
    application = await open_app(cfg, {})
    try:
        return await body(application)
    except EscalationNotFound as exc:
        raise CliError(str(exc)) from None
    finally:
        await application.close()


async def _responder(application: App, name: str) -> tuple[str, Scope]:
    """The acting worker's name and reach: her organisations (or those of ``--as``)."""
    member = await application.staff.by_name(name)
    if member is None:
        raise CliError(f"no staff member named '{name}' (see followup staff list)")
    if not member.responder:
        raise CliError(
            f"{name} has role '{member.role}'; only wss or admin staff act on escalations"
        )
    scope = await cli_scope(application.staff)
    return member.name, scope if scope.limited else Scope.of(member, "cli")


@app.command("list")
def list_(
    open_only: bool = typer.Option(False, "--open", help="Only those not resolved yet."),
    level: str | None = typer.Option(None, "--level", help="URGENT, HIGH or ROUTINE."),
    config: str | None = ConfigOption,
) -> None:
    """List escalations, newest first."""
    if level is not None and level.upper() not in LEVELS:
        fail(f"--level must be one of {', '.join(LEVELS)}, got '{level}'")
    cfg = config_or_exit(config)

    async def body(application: App) -> None:
        rows = await application.desk.list(
            await cli_scope(application.staff),
            open_only=open_only,
            level=level.upper() if level else None,
        )
        table = Table(
            "code", "level", "state", "partner", "programme", "reasons", "raised (UTC)", "by"
        )
        for e in rows:
            table.add_row(e.code, e.level, e.state, e.pseudonym, e.programme, ", ".join(e.reasons),
                          e.raised_at.strftime("%Y-%m-%d %H:%M"),
                          e.resolved_by or e.acknowledged_by or "")  # fmt: skip
        out.print(table if rows else "no escalations")

    run(lambda: _with_app(cfg, body))


@app.command("show")
def show(
    code: str = typer.Argument(..., help="E-XXXXX"),
    by: str | None = typer.Option(None, "--by", help="Your staff name (default: your login)."),
    config: str | None = ConfigOption,
) -> None:
    """Everything about one escalation: reasons, alerts sent, actions, notes (audited)."""
    cfg = config_or_exit(config)

    async def body(application: App) -> None:
        if by:
            who, scope = await _responder(application, by)
        else:
            who, scope = f"cli:{getpass.getuser()}", await cli_scope(application.staff)
        detail = await application.desk.view(code, who, scope=scope, via="cli")
        e = detail.escalation
        tr = Translator("en")
        out.print(f"[bold]{e.code}[/] {e.level} ({e.state})")
        out.print(
            f"  partner {e.pseudonym}, programme {e.programme}, timepoint {e.timepoint or '-'}"
        )
        for reason in e.reasons:
            label = tr.gettext(REASON_LABELS[reason]) if reason in REASON_LABELS else reason
            out.print(f"  reason: {reason} ({label})")
        out.print(f"  raised {e.raised_at:%Y-%m-%d %H:%M:%S} UTC")
        if e.acknowledged_by:
            out.print(f"  acknowledged by {e.acknowledged_by} at {e.acknowledged_at}")
        if e.resolved_by:
            out.print(f"  resolved by {e.resolved_by} at {e.resolved_at}")
        table = Table("round", "staff", "route", "due", "state", "sent", "last error")
        for n in detail.notifications:
            table.add_row(str(n.attempt), n.staff or "-", n.route, n.due_at[:19],
                          n.state, (n.sent_at or "")[:19], n.last_error or "")  # fmt: skip
        out.print(table)
        for at, author, text in detail.notes:
            out.print(f"  note {at[:19]} {author}: {text}", markup=False)

    run(lambda: _with_app(cfg, body))


def _act(action: str, code: str, by: str, note: str | None, config: str | None) -> None:
    cfg = config_or_exit(config)
    asked = SecretInput()
    try:
        note = asked.value("--note", note, "Note")  # it may say what she told a worker
    except CliError as exc:
        fail(str(exc))

    async def body(application: App) -> None:
        name, scope = await _responder(application, by)
        if action == "note":
            if not note:
                raise CliError("--note TEXT is required")
            await application.desk.note(code, name, note, scope=scope, via="cli")
            out.print(f"note added to {code.strip().upper()}")
            return
        act = application.desk.acknowledge if action == "ack" else application.desk.resolve
        outcome = await act(code, name, scope=scope, via="cli", note=note)
        done = "acknowledged" if action == "ack" else "resolved"
        if outcome.changed:
            out.print(f"{outcome.code} {done} by {name}")
        else:
            out.print(f"{outcome.code} was already {outcome.state}; nothing changed")

    run(lambda: _with_app(cfg, body))
    asked.warn()


@app.command("ack")
def ack(
    code: str = typer.Argument(..., help="E-XXXXX"),
    by: str = ByOption,
    note: str | None = NoteOption,
    config: str | None = ConfigOption,
) -> None:
    """Acknowledge: someone is on it; repeats stop."""
    _act("ack", code, by, note, config)


@app.command("resolve")
def resolve(
    code: str = typer.Argument(..., help="E-XXXXX"),
    by: str = ByOption,
    note: str | None = NoteOption,
    config: str | None = ConfigOption,
) -> None:
    """Resolve: the escalation is closed (acknowledges it too if nobody had)."""
    _act("resolve", code, by, note, config)


@app.command("note")
def note_(
    code: str = typer.Argument(..., help="E-XXXXX"),
    by: str = ByOption,
    note: str = typer.Option(
        ..., "--note", help="The note (stored encrypted); '-' to type it hidden or pipe it."
    ),
    config: str | None = ConfigOption,
) -> None:
    """Add a note to an escalation's record."""
    _act("note", code, by, note, config)


def audit_command(
    participant: str | None = typer.Option(
        None, "--participant", help="Her pseudonym (P-XXXXX): her events and her escalations'."
    ),
    limit: int = typer.Option(200, "--limit", min=1, help="Newest entries to show."),
    config: str | None = ConfigOption,
) -> None:
    """Show the audit log (who did what when; subjects are pseudonyms and codes only)."""
    cfg = config_or_exit(config)

    async def body(application: App) -> None:
        stores = application.stores
        found = None
        if participant:
            found = await stores.participants.by_pseudonym(
                participant, await cli_scope(application.staff)
            )
            if found is None:
                raise CliError(f"no participant with pseudonym {participant}")
        scope = await cli_scope(application.staff)
        entries = await newest_entries(stores.db, scope, limit, about=found)
        if not entries:
            out.print("no audit entries")
        for e in reversed(entries):
            at = e.at[:19].replace("T", " ")
            line = f"{at}  {e.actor}  {e.action}  {e.subject or '-'}  {e.detail or ''}"
            out.print(line.rstrip(), markup=False, soft_wrap=True)

    run(lambda: _with_app(cfg, body))


def register(root: typer.Typer) -> None:
    """``followup escalations ...`` and ``followup audit``."""
    root.add_typer(app, name="escalations")
    root.command("audit")(audit_command)
