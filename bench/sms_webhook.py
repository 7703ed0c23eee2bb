"""Signed ``POST /sms/inbound`` requests to the real ``python -m bot run`` process over HTTP.

Three processes: this one (set-up, and FakeTwilio's server thread, which takes the service's
replies, status callbacks and deletions), the service, and a load client started from here.
1,000 partners are enrolled and their T0 sessions opened up front (openers marked sent), so
every request is an answer in a live session: engine step, answer, reply row, provider-record
deletion row. Every request is signed here before the clock starts; the load client is a raw
keep-alive HTTP/1.1 client on asyncio streams (several connections), so it costs little and the
figures are the service's. Phase 1: a steady 100 requests/s for 10 s (latency from each
request's scheduled time: p50/p99/max). Phase 2: a burst at full speed (max throughput).
Per-process CPU is printed for each phase. Targets: >= 500 requests/s, p99 < 50 ms at 100/s.
"""

from __future__ import annotations

import asyncio
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
import uuid
from collections import deque
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from bench.common import percentile
from bench.waves import address_for, bulk_enrol
from bot.config import load_config
from bot.runtime.app import open_app
from bot.schedule.contact_request import ContactRequest
from tests.bot.channels.sms.support_sms import OUR_NUMBER, PUBLIC_URL, ROOT, SmsService
from tests.fakes.twilio_api import CallbackAttempt, FakeTwilio

PARTNERS = 1_000
WARM_UP = 100
RATE = 100.0
STEADY_SECONDS = 10.0
BURST = 3_000
CONNECTIONS = 16
URL = PUBLIC_URL + "/sms/inbound"
#: Her answers to T0, one round per pass over the partners (gate "yes", then the questions).
SCRIPT = ("yes", "1", "never", "2", "skip", "1", "1 2", "5")


async def prepare(service: SmsService) -> None:
    """Enrol the partners and open their T0 sessions; the openers count as sent already."""
    app = await open_app(load_config(service.config, env=service.env), {})
    try:
        await bulk_enrol(app, PARTNERS, channel="sms", tz="Europe/London")
        ids = [f"p{i:08d}" for i in range(PARTNERS)]
        for start in range(0, PARTNERS, 200):
            await app.service.begin_contacts([ContactRequest(p, "T0") for p in ids[start:][:200]])
        async with app.db.transaction() as tx:
            await tx.execute("UPDATE outbox SET state = 'sent' WHERE state = 'pending'")
    finally:
        await app.close()


class QuickTwilio(FakeTwilio):
    """FakeTwilio posting its status callbacks over one kept-alive client. The stock fake opens
    a client (and an SSL context) per callback, which cost more CPU than the service's own work
    on this 2-core machine; Twilio's side costs our machine nothing."""

    _client: httpx.AsyncClient | None = None

    async def _post_callback(
        self, previous: asyncio.Task[Any] | None, sid: str, url: str, form: dict[str, str]
    ) -> None:
        if previous is not None:
            await asyncio.wait([previous])
        headers, form = self.signed_form(url, form)
        if self._client is None:  # on the fake's own loop, where every callback runs
            self._client = httpx.AsyncClient(timeout=self.callback_timeout, trust_env=False)
        try:
            response = await self._client.post(self.target_of(url), data=form, headers=headers)
        except httpx.HTTPError as exc:
            attempt = CallbackAttempt(sid, url, form, None, "", str(exc), time.time())
        else:
            attempt = CallbackAttempt(
                sid, url, form, response.status_code, response.text, None, time.time()
            )
        self._record_callback(attempt)


def signed_requests(fake: FakeTwilio, port: int, count: int) -> list[bytes]:
    """Complete HTTP/1.1 requests, Twilio-signed for the public URL, in send order."""
    requests = []
    for i in range(count):
        form = {
            "MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": fake.account_sid,
            "From": address_for("sms", i % PARTNERS), "To": OUR_NUMBER,
            "Body": SCRIPT[(i // PARTNERS) % len(SCRIPT)], "NumMedia": "0", "NumSegments": "1",
            "SmsStatus": "received", "ApiVersion": "2010-04-01",
        }  # fmt: skip
        headers, form = fake.signed_form(URL, form)
        body = urlencode(form).encode()
        head = f"POST /sms/inbound HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in headers.items()
        )
        requests.append(f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body)
    return requests


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (all threads), from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- the load client (its own process) ------------------------------------------------------


class Connection:
    """One keep-alive HTTP/1.1 connection: write a request, read status and body."""

    reconnects = 0
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    def __init__(self, port: int) -> None:
        self.port = port

    @classmethod
    async def open(cls, port: int) -> Connection:
        conn = cls(port)
        conn.reader, conn.writer = await asyncio.open_connection("127.0.0.1", port)
        return conn

    async def send(self, request: bytes) -> int:
        try:
            self.writer.write(request)
            head = await self.reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            if isinstance(exc, asyncio.IncompleteReadError) and exc.partial:
                raise
            # The server closed an idle keep-alive connection (uvicorn: after 5 s) before
            # reading this request: open a new one and send it again (Twilio would, too).
            Connection.reconnects += 1
            self.writer.close()
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
            self.writer.write(request)
            head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length:
            await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        self.writer.close()


class Meter:
    """CPU of the three processes and wall time across one phase."""

    def __init__(self, service_pid: int, fake_pid: int) -> None:
        self.pids = {"service": service_pid, "fake": fake_pid}

    def __enter__(self) -> Meter:
        self.start = {k: cpu_seconds(p) for k, p in self.pids.items()}
        self.start_load, self.start_wall = time.process_time(), time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.start_wall
        self.cpu = {k: cpu_seconds(p) - self.start[k] for k, p in self.pids.items()}
        self.cpu["load"] = time.process_time() - self.start_load


async def load_client(
    requests: list[bytes], port: int, service_pid: int, fake_pid: int
) -> dict[str, Any]:
    statuses: dict[int, int] = {}
    pending = deque(requests)
    idle = deque([await Connection.open(port) for _ in range(CONNECTIONS)])

    async def one(conn: Connection) -> None:
        status = await conn.send(pending.popleft())
        statuses[status] = statuses.get(status, 0) + 1

    for _ in range(WARM_UP):  # connections, caches, the service's first-request costs
        await one(idle[0])
    await asyncio.sleep(1.0)

    latencies: list[float] = []
    timeline: list[tuple[float, float]] = []

    async def timed(at: float) -> None:
        conn = idle.popleft() if idle else await Connection.open(port)
        await one(conn)
        latencies.append(time.perf_counter() - at)  # from its scheduled time: no omission
        timeline.append((at - started, latencies[-1]))
        idle.append(conn)

    total = int(RATE * STEADY_SECONDS)
    with Meter(service_pid, fake_pid) as steady:
        started = time.perf_counter()
        tasks = []
        for i in range(total):
            at = started + i / RATE
            if (delay := at - time.perf_counter()) > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(timed(at)))
        await asyncio.gather(*tasks)
    await asyncio.sleep(2.0)  # let the service catch up with its replies

    async def worker(conn: Connection) -> None:
        while pending:
            await one(conn)

    sent_before = len(pending)
    with Meter(service_pid, fake_pid) as burst:
        await asyncio.gather(*(worker(c) for c in idle))
    for conn in idle:
        conn.close()
    return {
        "statuses": statuses,
        "reconnects": Connection.reconnects,
        "latencies": latencies,
        "timeline": sorted(timeline),
        "steady": {"wall": steady.wall, "cpu": steady.cpu, "count": total},
        "burst": {"wall": burst.wall, "cpu": burst.cpu, "count": sent_before},
    }


def load_main(path: str, port: int, service_pid: int, fake_pid: int) -> None:
    requests = pickle.loads(Path(path).read_bytes())
    result = asyncio.run(load_client(requests, port, service_pid, fake_pid))
    print(json.dumps(result))


# --- this process: set-up, FakeTwilio, report ------------------------------------------------


def cpu_line(phase: dict[str, Any]) -> str:
    cpu, wall, count = phase["cpu"], phase["wall"], phase["count"]
    return ", ".join(
        f"{name} {cpu[key] / wall * 100:.0f} % of a core ({cpu[key] / count * 1000:.2f} ms/request)"
        for name, key in (("service", "service"), ("load client", "load"), ("FakeTwilio", "fake"))
    )


def report(result: dict[str, Any]) -> None:
    latencies = result["latencies"]
    steady, burst = result["steady"], result["burst"]
    p50, p99 = percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000
    rate = burst["count"] / burst["wall"]
    ceiling = burst["count"] / burst["cpu"]["service"] if burst["cpu"]["service"] else 0.0
    print(
        f"sms webhook: at a steady {RATE:g} requests/s for {STEADY_SECONDS:g} s: p50 {p50:.1f} ms,"
        f" p99 {p99:.1f} ms, max {max(latencies) * 1000:.1f} ms"
        f" (target p99 < 50 ms: {'OK' if p99 < 50 else 'MISSED'})"
    )
    print(f"sms webhook: steady CPU: {cpu_line(steady)}")
    print(
        f"sms webhook: max {rate:,.0f} requests/s wall ({burst['count']:,} signed POSTs,"
        f" {CONNECTIONS} keep-alive connections; target >= 500/s: {'OK' if rate >= 500 else 'MISSED'});"
        f" {ceiling:,.0f}/s on the service's CPU time alone"
    )
    print(f"sms webhook: burst CPU: {cpu_line(burst)}")
    print(
        f"sms webhook: HTTP statuses {dict(sorted(result['statuses'].items()))},"
        f" {result['reconnects']} idle connection(s) reopened"
    )


def service_rate(service: SmsService) -> float:
    return float(load_config(service.config, env=service.env).sms.max_per_second)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, QuickTwilio() as fake:
        service = SmsService(Path(tmp), fake)
        asyncio.run(prepare(service))
        count = WARM_UP + int(RATE * STEADY_SECONDS) + BURST
        requests = Path(tmp) / "requests.pickle"
        requests.write_bytes(pickle.dumps(signed_requests(fake, service.port, count)))
        service.start()
        try:
            assert service.proc is not None
            args = [str(requests), str(service.port), str(service.proc.pid), str(os.getpid())]
            out = subprocess.run(
                [sys.executable, "-m", "bench.sms_webhook", "load", *args],
                capture_output=True, text=True, cwd=ROOT, check=False, timeout=300,
            )  # fmt: skip
            if out.returncode != 0:
                raise SystemExit(f"load client failed:\n{out.stderr}")
            result = json.loads(out.stdout)
            if dump := os.environ.get("SMS_BENCH_DUMP"):  # raw figures, for a closer look
                Path(dump).write_text(out.stdout)
            report(result)
            ops: dict[str, int] = {}
            for call in fake.calls:
                ops[call.op or "?"] = ops.get(call.op or "?", 0) + 1
            print(
                f"sms webhook: meanwhile FakeTwilio took {ops} API calls and posted"
                f" {len(fake.status_callbacks)} status callbacks (the service's replies at"
                f" {service_rate(service):g}/s, their deletions, her messages' deletions)"
            )
        finally:
            try:
                service.stop()
            except subprocess.TimeoutExpired:  # a long backlog still draining: no orphan left
                print("sms webhook: the service took over 15 s to stop after SIGTERM; killed")
                service.kill()


if __name__ == "__main__":
    if sys.argv[1:2] == ["load"]:
        load_main(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    else:
        main()
