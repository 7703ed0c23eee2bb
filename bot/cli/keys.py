"""``followup keys rotate|status``: encryption keys without downtime."""

from __future__ import annotations

import os

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bot.cli.common import CliError, ConfigOption, config_or_exit, err, out, run
from bot.config import Config
from bot.datarights.access import default_actor
from bot.datarights.rotation import RotationInterrupted, rotate
from bot.runtime.app import open_app
from bot.store.housekeeping import audit
from bot.store.open_database import is_postgres_url
from bot.store.rotation import addresses_to_reindex, fields_per_key, pending_counts
from bot.store.secret_digests import digests_per_key

app = typer.Typer(help="Encryption keys: rotate, status.", no_args_is_help=True)


@app.command("rotate")
def rotate_command(
    batch_size: int = typer.Option(500, "--batch-size", min=1, help="Rows per transaction."),
    config: str | None = ConfigOption,
) -> None:
    """Add a new key, re-encrypt every field and blind index with it, retire the old key.

    Safe to interrupt (Ctrl-C) and run again; the service keeps working meanwhile.
    """
    cfg = config_or_exit(config)
    run(lambda: _rotate(cfg, batch_size))


async def _rotate(cfg: Config, batch_size: int) -> None:
    if os.environ.get("FOLLOWUP_KEYS"):
        raise CliError(
            "keys come from FOLLOWUP_KEYS; rotation needs a key file (FOLLOWUP_KEY_FILE)"
        )
    if is_postgres_url(cfg.database_url()):
        raise CliError(
            "key rotation on PostgreSQL is not built yet (its batches walk SQLite's rowid);"
            " nothing was changed"
        )
    application = await open_app(cfg, {})
    try:
        ring, db = application.ring, application.db
        before = sum((await pending_counts(db, ring)).values())
        total = before + await addresses_to_reindex(db)
        with Progress(
            TextColumn("re-encrypting"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=err, transient=True,
        ) as bar:  # fmt: skip
            task = bar.add_task("rotate", total=max(total, 1))
            try:
                result = await rotate(
                    db, ring, cfg.path(cfg.security.key_file), application.service.clock.now(),
                    dedupe_days=cfg.retention.dedupe_days, batch_size=batch_size,
                    progress=lambda _kind, n: bar.advance(task, n),
                )  # fmt: skip
            except RotationInterrupted as exc:
                raise CliError(str(exc)) from None
        async with db.transaction() as tx:
            await audit(
                tx, application.service.clock.now(), default_actor(), "keys_rotated", result.new_key,
                f"resealed={result.resealed} reindexed={result.reindexed} retired={','.join(result.retired)}",
            )  # fmt: skip
        out.print(
            f"active key {result.new_key}: {result.resealed} fields re-encrypted,"
            f" {result.reindexed} blind indexes recomputed in {result.batches} batches;"
            f" retired: {', '.join(result.retired) or 'none'}"
        )
        if result.verify_only_kept:
            out.print(
                "verify-only subkeys kept for secret-word digests and pending links: "
                + ", ".join(result.verify_only_kept)
            )
    finally:
        await application.close()


@app.command("status")
def status_command(config: str | None = ConfigOption) -> None:
    """Key ids, which is active, and how many fields each key protects."""
    cfg = config_or_exit(config)
    run(lambda: _status(cfg))


async def _status(cfg: Config) -> None:
    application = await open_app(cfg, {})
    try:
        ring = application.ring
        per_column = await fields_per_key(application.db, ring)
        kids = list(dict.fromkeys([*ring.key_ids, *ring.verify_only]))
        for counts in per_column.values():
            kids.extend(k for k in counts if k not in kids)
        table = Table("field", *kids)
        for column, counts in per_column.items():
            table.add_row(column, *(str(counts.get(k, 0)) for k in kids))
        digests = await digests_per_key(application.db)
        table.add_row("secret-word digests", *(str(digests.get(k, 0)) for k in kids))
        out.print(table)
        out.print(f"active key: {ring.active}")
        for kid, retired in ring.verify_only.items():
            lookups = f", look-ups until {retired.lookup_until}" if retired.lookup_valid() else ""
            out.print(f"retired key {kid}: verify-only (secret-word digests{lookups})")
        if digests.get("unknown"):
            out.print(
                f"{digests['unknown']} secret-word digests predate key ids (assigned at the next rotation)"
            )
    finally:
        await application.close()


def register(root: typer.Typer) -> None:
    """``followup keys ...``."""
    root.add_typer(app, name="keys")
