"""Escalation latency under load: from her risk answer to the staff alert handed to the channel.

Plain script (not a test): ``python bench/escalation_latency.py [--escalations N] [--waves N]``.
10,000 wave openers are queued first (priority WAVE) on the same channel, which is rate
limited like Telegram (30 msg/s overall, 1 msg/s per chat). Then 1,000 participants, one
after the other, answer "yes" to the strangulation question (URGENT). Each time is measured
from the call to ``App.handle_inbound`` to the recording channel's ``send`` of the alert to
the on-call worker (20 programmes, one worker each, so the per-chat limit is not the
bottleneck). Prints p50/p95/p99/max.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from bench.common import run_like_the_service
from bot.channels.base import Inbound, Limits, Rendered
from bot.config import Config, DatabaseConfig, SecurityConfig
from bot.runtime.app import App, open_app
from bot.store.outbox import PRIORITY_WAVE
from bot.store.participants import NewParticipant
from conversations.engine import Context, step
from conversations.events import Begin, Reply
from conversations.secrets import SecretWords
from conversations.state import SessionState

PROGRAMMES = 20


class RecordingChannel:
    """Telegram-like limits; notes when each staff alert is handed over."""

    name = "telegram"
    style = "buttons"
    limits = Limits(per_second=30.0, per_address_per_second=1.0)

    def __init__(self) -> None:
        self.alert_at: dict[str, float] = {}
        self.arrived = asyncio.Event()
        self.waves_sent = 0
        self.other_sent = 0

    async def send(self, address: str, message: Rendered) -> str | None:
        if message.kind == "staff_alert":
            code = message.buttons[0].data.rsplit(":", 1)[1]
            self.alert_at.setdefault(code, time.perf_counter())
            self.arrived.set()
        elif message.kind == "opener":
            self.waves_sent += 1
        else:
            self.other_sent += 1
        return None

    async def delete(self, address: str, refs: Sequence[str]) -> set[str]:
        return set(refs)


async def setup(app: App, escalations: int, waves: int) -> list[str]:
    """Programmes with one on-call worker each, participants at the strangulation item, waves."""
    now = app.service.clock.now()
    async with app.db.transaction() as tx:
        programme_ids = []
        for n in range(PROGRAMMES):
            pid = await app.service.programmes.add(
                tx, f"bench-{n}", now, timezone="Europe/London", helpline="Helpline 0800 000 000"
            )
            worker = await app.staff.add(
                tx, name=f"worker-{n}", role="wss", language="en", now=now,
                telegram_user_id=str(500_000 + n),
            )  # fmt: skip
            await app.staff.set_routes(tx, pid, [worker.id], [])
            programme_ids.append(pid)
    addresses = [str(100_000_000 + i) for i in range(escalations)]
    state: SessionState | None = None
    for start in range(0, escalations, 500):
        async with app.db.transaction() as tx:
            for i in range(start, min(start + 500, escalations)):
                her = await app.service.participants.create(
                    tx,
                    NewParticipant(
                        programme_id=programme_ids[i % PROGRAMMES], channel="telegram",
                        language="en", timezone="Europe/London", enrolled_on=date(2026, 1, 5),
                        address=addresses[i], safe_word="pineapple",
                    ),
                    now,
                )  # fmt: skip
                if state is None:
                    state = at_item(app, her.id, "risk_strangulation")
                await app.service.sessions.save(tx, her.id, state, now, None)
    async with app.db.transaction() as tx:
        opener = Rendered("Hi, it's Sam. Is now a good time for a short chat?", kind="opener")
        for i in range(waves):
            await app.service.outbox.enqueue(
                tx, lane=f"p:wave-{i}", channel="telegram", kind="message",
                priority=PRIORITY_WAVE, payload={"address": str(200_000_000 + i),
                "message": opener.to_json()}, now=now,
            )  # fmt: skip
    return addresses


def at_item(app: App, participant_id: str, item_id: str) -> SessionState:
    """Her session state when ``item_id`` is the open question (neutral answers before it)."""

    survey = app.service.survey
    ctx = Context(secrets=SecretWords(participant_id, app.ring.secret_word_keys(),
                                      frozenset(), frozenset(), frozenset()))  # fmt: skip
    now = app.service.clock.now()
    state, _ = step(survey, SessionState("T0"), Begin(), now, ctx)
    state, _ = step(survey, state, Reply("yes"), now, ctx)
    while state.current != item_id:
        item = survey.item(state.current or "")
        codes = [c.code for c in item.effective_choices()]
        answer = next((c for c in ("no", "never", "none", "not_at_all") if c in codes), None)
        reply = Reply("", (answer or codes[0],), item.id) if codes else Reply("skip")
        state, _ = step(survey, state, reply, now, ctx)
    return state


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


async def main(escalations: int, waves: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        config = dataclasses.replace(
            Config(),
            database=DatabaseConfig(path=str(Path(tmp) / "bench.db")),
            security=SecurityConfig(key_file=str(Path(tmp) / "bench.keys")),
        )
        channel = RecordingChannel()
        app = await open_app(config, {"telegram": channel})
        try:
            t = time.perf_counter()
            addresses = await setup(app, escalations, waves)
            print(f"set-up: {escalations} participants, {waves} wave openers queued"
                  f" in {time.perf_counter() - t:.1f} s")  # fmt: skip
            stop = asyncio.Event()
            dispatcher = asyncio.create_task(app.dispatcher.run(stop))
            await asyncio.sleep(0.5)  # the dispatcher is busy sending waves
            latencies: list[float] = []
            started = time.perf_counter()
            for i, address in enumerate(addresses):
                t0 = time.perf_counter()
                report = await app.handle_inbound(
                    Inbound("telegram", address, "yes", provider_id=f"bench-{i}")
                )
                assert report is not None and report.escalations, "no escalation raised"
                code = report.escalations[0].code
                while code not in channel.alert_at:
                    channel.arrived.clear()
                    await asyncio.wait_for(channel.arrived.wait(), 30)
                latencies.append(channel.alert_at[code] - t0)
            elapsed = time.perf_counter() - started
            stop.set()
            await dispatcher
            pending = await app.service.outbox.pending_count("telegram")
        finally:
            await app.close()
    ms = [x * 1000 for x in latencies]
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"escalations: {len(ms)} in {elapsed:.1f} s; wave openers sent meanwhile:"
          f" {channel.waves_sent}, still queued at the end: {pending}")  # fmt: skip
    print(f"answer -> staff alert handed to channel: p50 {pct(ms, 50):.1f} ms,"
          f" p95 {pct(ms, 95):.1f} ms, p99 {pct(ms, 99):.1f} ms, max {max(ms):.1f} ms,"
          f" mean {statistics.mean(ms):.1f} ms")  # fmt: skip
    verdict = "OK" if pct(ms, 99) < 1000 else "MISSED"
    print(f"target p99 < 1000 ms: {verdict}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--escalations", type=int, default=1000)
    parser.add_argument("--waves", type=int, default=10_000)
    args = parser.parse_args()
    run_like_the_service(main(args.escalations, args.waves))
