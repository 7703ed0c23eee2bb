"""Files that hold her data (the database, exports, reports) are the owner's only: 0600.

Created with that mode from the start (never written first and narrowed after). An
export written over an older, wider file is narrowed; an existing database is left as
the operator set it (a backup user's group read may be deliberate). SQLite gives its -wal and -shm files the mode of
the database file, so creating that one 0600 covers all three.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TextIO

PRIVATE = 0o600


def ensure_private_file(path: Path) -> None:
    """Create ``path`` empty and 0600 when missing; an existing file is left as it is."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE))


def open_private(path: Path, newline: str | None = None) -> TextIO:
    """Open ``path`` for writing text (truncated), 0600 whether new or not."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE)
    os.fchmod(fd, PRIVATE)
    return os.fdopen(fd, "w", encoding="utf-8", newline=newline)


def write_private_text(path: Path, text: str) -> None:
    with open_private(path) as handle:
        handle.write(text)
