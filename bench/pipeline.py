"""Inbound messages per second through the whole in-process path, one process, one core.

adapter (Inbound) -> participant look-up -> de-dup -> session load (decrypt) -> engine ->
encrypted durable commit (answers, state, outbox row). 1,000 participants answer T0 in
round-robin order. Target: >= 1,500 messages/s.
"""

from __future__ import annotations

import logging
import time
from datetime import date

from bench.common import NullChannel, bench_app, run_like_the_service, summary
from bot.channels.base import Inbound
from bot.enrolment.rules import enrol
from bot.store.consent import Consent

PARTICIPANTS = 1_000
ROUNDS = 8  # gate "yes" + 7 answers each


async def main() -> None:
    # The scripted answers raise escalations with no staff route; their 1,000 log lines are
    # expected here and would bury the figures.
    logging.getLogger("bot.escalation").setLevel(logging.CRITICAL)
    app = await bench_app({"console": NullChannel()})
    service = app.service
    now = service.clock.now()
    async with app.db.transaction() as tx:
        programme = await service.programmes.add(tx, "bench", now, timezone="Europe/London")
    for n in range(PARTICIPANTS):
        p = await enrol(
            service.stores, service.config, service.survey, programme_id=programme, channel="console", language="en",
            timezone="Europe/London", today=date.today(), now=now, address=f"console:{n}",
            safe_word="pineapple",
            consent=Consent("bench", date.today(), "bench"),
        )  # fmt: skip
        await service.begin_contact(p.id, "T0")
    script = ["yes", "1", "never", "2", "skip", "1", "1 2", "5"]
    latencies: list[float] = []
    started = time.perf_counter()
    cpu_started = time.process_time()
    for round_no in range(ROUNDS):
        for n in range(PARTICIPANTS):
            t0 = time.perf_counter()
            await service.handle_inbound(
                Inbound("console", f"console:{n}", script[round_no], provider_id=f"{n}:{round_no}")
            )
            latencies.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    total = PARTICIPANTS * ROUNDS
    rows = await app.db.fetchone("SELECT COUNT(*) FROM outbox")
    answers = await app.db.fetchone("SELECT COUNT(*) FROM answers")
    print(f"pipeline: {total} inbound messages from {PARTICIPANTS} participants in {elapsed:.2f} s")
    print(
        f"pipeline: {total / elapsed:,.0f} messages/s (target >= 1,500/s); per message {summary(latencies)}"
    )
    print(
        f"pipeline: CPU {cpu / total * 1e6:.0f} µs per message (all threads) -> {total / cpu:,.0f}/s on one free core"
    )
    print(
        f"pipeline: {answers[0] if answers else 0} answers stored, {rows[0] if rows else 0} outbox rows"
    )
    # Every inbound message answers a prompt (the gate or a question); openers are the rest.
    messages = await app.db.fetchone("SELECT COUNT(*) FROM outbox WHERE kind = 'message'")
    replies = (messages[0] if messages else 0) - PARTICIPANTS
    print(f"pipeline: {replies / total:.2f} messages per answered prompt (outbox rows to her)")
    await app.close()


if __name__ == "__main__":
    run_like_the_service(main())
