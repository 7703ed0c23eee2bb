"""Peak RSS of the real ``python -m bot run`` with 100,000 partners and 5,000 open sessions.

100,000 SMS partners are bulk-inserted (sealed addresses, blind indexes, consents, T0 due today),
5,000 of them with an open session (sealed state). The service starts with a 2-s sweep interval;
once five sweep intervals in a row change neither the outbox nor the number of timepoints the
sweeps decided (an opener queued, or a wait cached: in quiet hours a sweep enqueues nothing; a
sweep commits page by page, so one still running shows), VmHWM is read from /proc/<pid>/status. Target: < 200 MB.
"""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
import time
from pathlib import Path

from bench.waves import bulk_enrol
from bot.config import load_config
from bot.runtime.app import open_app
from conversations.engine import Context, step
from conversations.events import Begin, Reply
from conversations.secrets import SecretWords
from conversations.state import SessionState
from tests.bot.channels.sms.support_sms import SmsService
from tests.fakes.twilio_api import FakeTwilio

PARTNERS = 100_000
SESSIONS = 5_000
SWEEP_SECONDS = 2.0


async def populate(service: SmsService) -> None:
    app = await open_app(load_config(service.config, env=service.env), {})
    try:
        await bulk_enrol(app, PARTNERS, channel="sms", tz="Europe/London")
        survey, now = app.service.survey, app.service.clock.now()
        for start in range(0, SESSIONS, 1_000):
            async with app.db.transaction() as tx:
                for i in range(start, start + 1_000):
                    pid = f"p{i:08d}"
                    ctx = Context(secrets=SecretWords(pid, app.ring.secret_word_keys(),
                                  frozenset(), frozenset(), frozenset()))  # fmt: skip
                    state, _ = step(survey, SessionState("T0"), Begin(), now, ctx)
                    state, _ = step(survey, state, Reply("yes"), now, ctx)
                    await app.service.sessions.save(tx, pid, state, now)
    finally:
        await app.close()


def vm(pid: int, key: str) -> int:
    """A VmXXX figure of /proc/<pid>/status in kB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def progress(db: Path) -> tuple[int, int]:
    """Outbox rows queued, and timepoints the sweeps decided (a contact, or a wait cached)."""
    with sqlite3.connect(db, timeout=5) as conn:
        rows = int(conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])
        decided = conn.execute(
            "SELECT COUNT(*) FROM timepoints WHERE next_action_at IS NOT NULL OR state != 'scheduled'"
        ).fetchone()[0]
        return rows, int(decided)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, FakeTwilio() as fake:
        service = SmsService(Path(tmp), fake)
        with service.config.open("a") as f:
            f.write(f"[scheduler]\nsweep_seconds = {SWEEP_SECONDS}\n")
        t = time.perf_counter()
        asyncio.run(populate(service))
        setup = time.perf_counter() - t
        service.start()
        try:
            assert service.proc is not None
            pid = service.proc.pid
            started = time.perf_counter()
            seen, stable = (0, 0), 0
            while time.perf_counter() - started < 300 and stable < 5:
                time.sleep(SWEEP_SECONDS)  # stop once five sweep intervals change nothing
                now_seen = progress(service.db_path)
                stable = stable + 1 if now_seen == seen and now_seen[1] else 0
                seen = now_seen
            rows, decided = seen
            waited = time.perf_counter() - started
            hwm, rss = vm(pid, "VmHWM"), vm(pid, "VmRSS")
        finally:
            service.stop()
    print(
        f"memory: {PARTNERS:,} partners, {SESSIONS:,} open sessions (set-up {setup:.0f} s);"
        f" service ran {waited:.0f} s with {SWEEP_SECONDS:g}-s sweeps, {decided:,} timepoints"
        f" decided, {rows:,} outbox rows queued"
    )
    print(
        f"memory: peak RSS (VmHWM) {hwm / 1024:.0f} MB, RSS at the end {rss / 1024:.0f} MB"
        f" (target < 200 MB: {'OK' if hwm / 1024 < 200 else 'MISSED'})"
    )


if __name__ == "__main__":
    main()
