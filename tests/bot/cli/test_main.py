"""Start-up of every ``followup`` command, ``followup run`` included: the analysis libraries
(pandas, pyreadstat, matplotlib, scipy) load only when an export or report needs them."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("pandas", "pyreadstat", "matplotlib", "scipy")


def test_the_command_line_starts_without_the_analysis_libraries() -> None:
    probe = (
        "import sys, bot.cli.main, bot.runtime.app; "
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == ""
