"""The real service (`python -m bot run`) against FakeTwilio, as an operator would run it.

Twilio "calls" https://followup.example.test (sms.public_url); the fake signs for that URL and
delivers to the service's local port, as a TLS proxy would. CLI steps (programme, enrol,
contact) run as subprocesses too, before the service starts, so the service sends at once.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from bot.config import load_config
from bot.crypto import load_or_create_keyring
from bot.store.sessions import Answers
from conversations.answers import AnswerValue
from tests.bot.support_sealed_rows import escalation_rows, session_ends
from tests.bot.support_service_db import ServiceDatabase
from tests.fakes.twilio_api import FakeTwilio

PUBLIC_URL = "https://followup.example.test"
OUR_NUMBER = "+15005550006"
PHONE = "+447911123456"
#: The consent question after the gate (issue 20), on every timepoint.
CONSENT_ASK = "Is it still OK to ask you a few questions?"
PROGRAMME = "leeds"
ROOT = Path(__file__).resolve().parents[4]
#: Tables whose rows would say something about a request.
DATA_TABLES = (
    "participants",
    "sessions",
    "answers",
    "outbox",
    "transcript",
    "inbound_seen",
    "counters",
    "escalations",
    "audit_log",
    "timepoints",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SmsService:
    """One database, one config file, and the service process started on demand."""

    def __init__(
        self, tmp_path: Path, fake: FakeTwilio, *, database_url: str = "", **sms: Any
    ) -> None:
        self.dir = tmp_path
        self.fake = fake
        self.port = free_port()
        self.config = tmp_path / "followup.toml"
        self.db_path = tmp_path / "f.db"
        self.db = ServiceDatabase(self.db_path, database_url)
        self.key_file = tmp_path / "f.keys"
        settings: dict[str, Any] = {
            "api_base_url": fake.base_url,
            "public_url": PUBLIC_URL,
            "from_number": OUR_NUMBER,
            "max_per_second": 50.0,
            "max_per_number_per_second": 50.0,
            "request_timeout_seconds": 1.0,
            **sms,
        }
        lines = "".join(f"{k} = {json.dumps(v)}\n" for k, v in settings.items())
        self.config.write_text(
            f'[database]\n{self.db.config_lines()}[security]\nkey_file = "{self.key_file}"\n'
            f'[sms]\n{lines}[web]\nport = {self.port}\n[logging]\nlevel = "INFO"\n'
        )
        fake.behind_proxy(PUBLIC_URL, f"http://127.0.0.1:{self.port}")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("FOLLOWUP", "TWILIO"))}
        self.env.update(
            TWILIO_ACCOUNT_SID=fake.account_sid, TWILIO_AUTH_TOKEN=fake.auth_token, COLUMNS="200"
        )
        self.proc: subprocess.Popen[str] | None = None
        self.log = tmp_path / "service.log"

    # --- CLI ---------------------------------------------------------------------------------

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", *args, "--config", str(self.config)],
            capture_output=True,
            text=True,
            timeout=60,
            env=self.env,
            cwd=ROOT,
            check=False,
        )

    def ok(self, *args: str) -> str:
        result = self.cli(*args)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def enrol(self, phone: str = PHONE, *extra: str) -> str:
        """Programme (once), then enrol her on SMS; returns her pseudonym."""
        if not self.db.exists():
            self.ok("programme", "add", "--name", PROGRAMME, "--timezone", "Europe/London",
                    "--helpline", "Helpline 0800 000 0000", "--emergency-number", "999")  # fmt: skip
        args = ["enrol", "--programme", PROGRAMME, "--channel", "sms", "--phone", phone, "--json",
                "--consent-version", "v1", "--consent-date", "2026-01-01", "--consent-by", "Test"]  # fmt: skip
        out = self.ok(*args, "--safe-word", "pineapple", *extra)
        result = json.loads(out)
        assert result["channel"] == "sms"
        return str(result["participant"])

    def contact(self, pseudonym: str, timepoint: str = "T0") -> None:
        self.ok("contact", pseudonym, "--timepoint", timepoint)

    # --- the service process -------------------------------------------------------------------

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--config", str(self.config)],
            stdout=self.log.open("a"),
            stderr=subprocess.STDOUT,
            text=True,
            env=self.env,
            cwd=ROOT,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.output()
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).text == "ok":
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise AssertionError("service did not start:\n" + self.output())

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(15)
        self.proc = None

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self.proc = None

    def output(self) -> str:
        return self.log.read_text() if self.log.exists() else ""

    # --- her phone ------------------------------------------------------------------------------

    def received(self, phone: str = PHONE) -> list[str]:
        return self.fake.bodies_to(phone)

    def wait_for_text(self, needle: str, after: int = 0, phone: str = PHONE) -> int:
        """Wait until a message after the first `after` contains `needle`; returns the count."""

        def found() -> int:
            bodies = self.received(phone)
            return len(bodies) if any(needle in b for b in bodies[after:]) else 0

        return self.fake.wait_for(found, 10, what=f"a text containing {needle!r}")

    def say(self, text: str, phone: str = PHONE) -> str:
        """She texts our number; returns the MessageSid (the webhook must answer empty TwiML)."""
        sid = self.fake.inbound(phone, OUR_NUMBER, text, url=PUBLIC_URL + "/sms/inbound")
        answer = self.fake.webhook_responses[sid]
        assert answer.status == 200, (answer, self.output())
        assert answer.body.endswith("<Response/>")
        return sid

    def exchange(self, reply: str, expect: str, phone: str = PHONE) -> None:
        """Reply and wait for the next message containing `expect`."""
        before = len(self.received(phone))
        self.say(reply, phone)
        self.wait_for_text(expect, before, phone)

    # --- the database ---------------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        counts = {t: int(self.query(f"SELECT COUNT(*) FROM {t}")[0][0]) for t in DATA_TABLES}
        if "audit_log" in counts:  # the retention job logs its start-up run at any moment
            counts["audit_log"] = int(
                self.query("SELECT COUNT(*) FROM audit_log WHERE action != 'retention_run'")[0][0]
            )
        return counts

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        return self.db.query(sql, params)

    def answers(self, pseudonym: str, timepoint: str = "T0") -> dict[str, AnswerValue]:
        async def read() -> dict[str, AnswerValue]:
            config = load_config(self.config, env={})
            ring, _ = load_or_create_keyring(Path(config.security.key_file))
            db = await self.db.open()
            try:
                row = await db.fetchone(
                    "SELECT id FROM participants WHERE pseudonym = ?", (pseudonym,)
                )
                assert row is not None
                stored = await Answers(db, ring).for_timepoint(row[0], timepoint)
            finally:
                await db.close()
            return {k: v.value for k, v in stored.items() if not v.skipped}

        return asyncio.run(read())

    def settled(self) -> None:
        """Wait until no message is waiting or in flight (before a kill that must not race)."""
        eventually(
            lambda: (
                not self.query(
                    "SELECT 1 FROM outbox WHERE kind = 'message' AND state IN ('pending', 'sending')"
                )
            ),
            what="the outbox drained",
        )

    def wait_all_records_gone(self) -> None:
        """Every message deleted at the provider, and the database knows it."""

        def gone() -> bool:
            return not self.fake.existing_sids() and not self.query(
                "SELECT 1 FROM transcript WHERE deleted_at IS NULL"
            )

        eventually(gone, what="every provider record deleted and marked so")

    def session_ends(self, pseudonym: str | None = None) -> list[tuple[str, str | None]]:
        """(phase, outcome) of every session (of one woman), opened from the sealed state."""
        return session_ends(self.db, self.key_file, pseudonym)

    def escalations(self) -> list[tuple[str, str | None, str, tuple[str, ...]]]:
        """(code, her pseudonym, level, reasons) of every escalation, reasons opened."""
        return escalation_rows(self.db, self.key_file)

    def status(self, pseudonym: str) -> str:
        return str(
            self.query("SELECT status FROM participants WHERE pseudonym = ?", pseudonym)[0][0]
        )

    def stored_bytes(self) -> bytes:
        return self.db.stored_bytes()


def eventually(check: Callable[[], Any], timeout: float = 10.0, what: str = "") -> Any:
    """Poll `check` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        time.sleep(0.02)
