"""Signed ``POST /sms/inbound`` requests to the real ``python -m bot run`` process over HTTP.

The service runs as its own process (SMS configured, FakeTwilio as the API base, Twilio signing
for sms.public_url); this load process sends Twilio-signed forms from 1,000 enrolled partners to
127.0.0.1 with httpx. Phase 1: maximum throughput (bounded request count, fixed concurrency).
Phase 2: a steady 100 requests/s for 10 s, p50/p99 latency. Targets: >= 500 requests/s,
p99 < 50 ms at 100/s.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from bench.common import percentile
from bench.waves import address_for, bulk_enrol
from bot.app import open_app
from bot.config import load_config
from tests.bot.channels.sms.sms_harness import OUR_NUMBER, PUBLIC_URL, SmsService
from tests.fakes.twilio_api import FakeTwilio

PARTNERS = 1_000
BURST = 3_000
CONCURRENCY = 32
RATE = 100.0
STEADY_SECONDS = 10.0
URL = PUBLIC_URL + "/sms/inbound"


async def enrol_partners(service: SmsService) -> None:
    app = await open_app(load_config(service.config, env=service.env), {})
    try:
        await bulk_enrol(app, PARTNERS, channel="sms", tz="Europe/London")
    finally:
        await app.close()


class Load:
    """Builds signed Twilio forms and posts them, timing each answer."""

    def __init__(self, fake: FakeTwilio, port: int) -> None:
        self.fake = fake
        self.target = f"http://127.0.0.1:{port}/sms/inbound"
        self.n = 0
        self.statuses: dict[int, int] = {}

    def request(self) -> tuple[dict[str, str], dict[str, str]]:
        self.n += 1
        form = {
            "MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": self.fake.account_sid,
            "From": address_for("sms", self.n % PARTNERS), "To": OUR_NUMBER,
            "Body": "hello", "NumMedia": "0", "NumSegments": "1", "SmsStatus": "received",
            "ApiVersion": "2010-04-01",
        }  # fmt: skip
        return self.fake.signed_form(URL, form)

    async def post(self, client: httpx.AsyncClient) -> float:
        headers, form = self.request()
        t0 = time.perf_counter()
        response = await client.post(self.target, data=form, headers=headers)
        elapsed = time.perf_counter() - t0
        self.statuses[response.status_code] = self.statuses.get(response.status_code, 0) + 1
        return elapsed


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def burst(load: Load, client: httpx.AsyncClient) -> float:
    remaining = BURST

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await load.post(client)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return BURST / (time.perf_counter() - started)


async def steady(load: Load, client: httpx.AsyncClient) -> list[float]:
    total = int(RATE * STEADY_SECONDS)
    started = time.perf_counter()
    tasks = []
    for i in range(total):
        delay = started + i / RATE - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(load.post(client)))
    return list(await asyncio.gather(*tasks))


async def run(service: SmsService, fake: FakeTwilio) -> None:
    load = Load(fake, service.port)
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(timeout=10, trust_env=False, limits=limits) as client:
        for _ in range(50):  # warm-up: connections, caches
            await load.post(client)
        pid = service.proc.pid if service.proc else os.getpid()
        cpu_service, cpu_load, wall = cpu_seconds(pid), time.process_time(), time.perf_counter()
        rate = await burst(load, client)
        wall = time.perf_counter() - wall
        cpu_service = cpu_seconds(pid) - cpu_service
        cpu_load = time.process_time() - cpu_load
        await asyncio.sleep(1.0)  # let the service drain the replies it queued
        latencies = await steady(load, client)
    p50, p99 = percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000
    print(
        f"sms webhook: max {rate:,.0f} requests/s ({BURST:,} signed POSTs, {CONCURRENCY} concurrent;"
        f" target >= 500/s: {'OK' if rate >= 500 else 'MISSED'})"
    )
    print(
        f"sms webhook: at a steady {RATE:g} requests/s for {STEADY_SECONDS:g} s: p50 {p50:.1f} ms,"
        f" p99 {p99:.1f} ms, max {max(latencies) * 1000:.1f} ms"
        f" (target p99 < 50 ms: {'OK' if p99 < 50 else 'MISSED'})"
    )
    print(
        f"sms webhook: during the burst the service used {cpu_service / wall * 100:.0f} % of a core"
        f" ({cpu_service / BURST * 1000:.1f} ms CPU per request), this load process (httpx, signing,"
        f" FakeTwilio's thread) {cpu_load / wall * 100:.0f} %"
    )
    print(f"sms webhook: HTTP statuses {dict(sorted(load.statuses.items()))}")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, FakeTwilio() as fake:
        service = SmsService(Path(tmp), fake)
        asyncio.run(enrol_partners(service))
        service.start()
        try:
            asyncio.run(run(service, fake))
        finally:
            service.stop()


if __name__ == "__main__":
    main()
