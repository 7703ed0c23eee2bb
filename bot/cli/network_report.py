"""``followup report --network``: the pooled network report, written to one HTML file.

Only the operator (no ``--as``) and staff of the ``network`` or ``operator`` role may
write it; the export is audited like every other.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.cli.common import CliError, cli_scope, out
from bot.config import Config
from bot.datarights.access import log_access
from bot.datarights.network_report import REPORT_ROLES, network_report, render_network_report
from bot.private_files import write_private_text
from bot.runtime.app import open_app


async def write_network_report(cfg: Config, out_file: Path, actor: str) -> None:
    application = await open_app(cfg, {})
    try:
        scope = await cli_scope(application.staff)
        if scope.role not in REPORT_ROLES:
            raise CliError(
                f"the network report is for the network role; {scope.actor} is {scope.role}"
            )
        stores = application.stores
        report = await network_report(stores.db, stores.ring, stores.programmes)
        html = render_network_report(report, stores.clock.now())
        try:
            await asyncio.to_thread(write_private_text, out_file, html)
        except OSError as exc:
            raise CliError(f"{out_file}: cannot write ({exc.strerror})") from None
        await log_access(stores.db, stores.clock, actor, "network_report", "network",
                         f"{out_file.name}, {len(report.programmes)} programme(s)")  # fmt: skip
        out.print(f"network report of {len(report.programmes)} programme(s) written to {out_file}")
    finally:
        await application.close()
