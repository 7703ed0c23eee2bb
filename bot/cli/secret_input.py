"""Secrets typed at a hidden prompt or read from stdin, not left in shell history or `ps`.

An option given as ``-`` (``--safe-word -``) is asked at a hidden prompt on a terminal,
or read as one line of stdin otherwise (one line per ``-`` option, in the order the
command's help lists them). A secret given as a plain argument still works, for
scripts, with a one-line warning on stderr once the command has done its work (an
error stays one line).
"""

from __future__ import annotations

import getpass
import sys
from typing import TextIO

from bot.cli.common import CliError, err

FROM_INPUT = "-"


class SecretInput:
    """Reads the ``-`` secrets of one command invocation, in the order they are asked for."""

    def __init__(self, stdin: TextIO | None = None) -> None:
        self.stdin = stdin if stdin is not None else sys.stdin
        self.on_command_line: list[str] = []

    def value(self, option: str, given: str | None, label: str) -> str | None:
        """``given`` as typed, or read when it is ``-``; None or empty stays as it is."""
        if not given:
            return given
        if given != FROM_INPUT:
            self.on_command_line.append(option)
            return given
        if self.stdin.isatty():
            return getpass.getpass(f"{label} (hidden): ", stream=None)
        line = self.stdin.readline()
        if not line:
            raise CliError(
                f"{option} -: nothing left on stdin (one line per '-' option, in the order"
                " of --help); nothing was stored"
            )
        return line.rstrip("\r\n")

    def warn(self) -> None:
        """One line per secret that was given as an argument."""
        for option in self.on_command_line:
            err.print(
                f"[yellow]warning:[/] {option} on the command line stays in shell history and"
                f" shows in `ps`; give `{option} -` to type it hidden or pipe it on stdin"
            )
