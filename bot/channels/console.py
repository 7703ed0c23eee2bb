"""The console channel: the same engine and store, her side printed in a terminal.

The embedded default that needs no account anywhere (``followup demo``).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from rich.console import Console

from bot.channels.base import Limits, Rendered


class ConsoleChannel:
    name = "console"
    style = "numbered"
    limits = Limits(per_second=1000.0, per_address_per_second=1000.0)

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(highlight=False)
        self._ids = itertools.count(1)
        self.sent: list[Rendered] = []

    async def send(self, address: str, message: Rendered) -> str | None:
        self.sent.append(message)
        if message.kind == "staff_alert":  # the WSS console route (followup demo)
            body = _escape(message.text).replace("\n", "\n    ")
            self.console.print(
                f"[bold white on red] WSS ALERT to {_escape(address)} [/]\n    {body}"
            )
        else:
            self.console.print(f"[bold cyan]bot>[/] {_escape(message.text)}")
        return f"console-{next(self._ids)}"

    async def delete(self, address: str, refs: Sequence[str]) -> set[str]:
        if refs:
            self.console.print(f"[dim](chat cleared: {len(refs)} message(s) deleted)[/]")
        return set(refs)


def _escape(text: str) -> str:
    return text.replace("[", r"\[")
