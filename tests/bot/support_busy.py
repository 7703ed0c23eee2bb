"""Another process holding the SQLite write lock (``BEGIN IMMEDIATE``), as a CLI command,
a backup or an operator's sqlite3 shell would, for as long as a test wants."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path
from types import TracebackType

from bot.store.db import BusyPolicy

#: Short waits so a test sees every retry within a fraction of a second.
FAST = BusyPolicy(timeout_ms=60, retry_delays=(0.05, 0.1))

_HOLDER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=0)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.readline()
conn.execute("ROLLBACK")
conn.close()
"""


class LockHolder:
    """A second process with the write lock taken; ``release()`` (or leaving) gives it up."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.proc: subprocess.Popen[str] | None = None
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()

    def __enter__(self) -> LockHolder:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _HOLDER, str(self.path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line.strip() == "locked", f"the lock holder did not start: {line!r}"
        return self

    def release_after(self, seconds: float) -> None:
        """Give the lock up from a timer thread (the event loop keeps running meanwhile)."""
        self._timer = threading.Timer(seconds, self.release)
        self._timer.start()

    def release(self) -> None:
        with self._lock:
            proc, self.proc = self.proc, None
        if proc is None:
            return
        assert proc.stdin is not None
        proc.stdin.write("\n")
        proc.stdin.flush()
        assert proc.wait(10) == 0
        proc.stdin.close()
        if proc.stdout is not None:
            proc.stdout.close()

    @property
    def held(self) -> bool:
        return self.proc is not None

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self.release()
