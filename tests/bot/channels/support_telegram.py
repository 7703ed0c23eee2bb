"""The real service as a subprocess (``python -m bot run``) against FakeTelegram on 127.0.0.1.

Helpers play her side: wait for the bot's next message, press its buttons, type.
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
from pathlib import Path
from typing import Any

import httpx

from bot.config import load_config
from bot.crypto import load_or_create_keyring
from bot.store.participants import Participants
from bot.store.scope import Scope
from bot.store.sessions import Answers
from conversations.answers import Answer
from tests.bot.support_sealed_rows import escalation_rows
from tests.bot.support_service_db import ServiceDatabase
from tests.fakes.telegram_api import FakeTelegram

JSONDict = dict[str, Any]
SAFE_WORD = "pineapple"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Service:
    """One configured service: CLI commands and the long-running ``run`` process."""

    def __init__(
        self, tmp_path: Path, fake: FakeTelegram, *, database_url: str = "", **telegram: Any
    ) -> None:
        self.tmp = tmp_path
        self.fake = fake
        self.port = free_port()
        self.db_path = tmp_path / "f.db"
        self.db = ServiceDatabase(self.db_path, database_url)
        self.config = tmp_path / "followup.toml"
        settings: JSONDict = {
            "bot_username": fake.bot_username,
            "api_base_url": fake.base_url,
            "delete_after_seconds": 0.5,
            "max_per_chat_per_second": 20.0,
            **telegram,
        }
        lines = [
            f"[database]\n{self.db.config_lines()}",
            f'[security]\nkey_file = "{tmp_path / "f.keys"}"',
            "[telegram]",
            *(f"{key} = {json.dumps(value)}" for key, value in settings.items()),
            f"[web]\nport = {self.port}",
            '[logging]\nlevel = "INFO"',
        ]
        self.config.write_text("\n".join(lines) + "\n")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("FOLLOWUP", "TELEG"))}
        self.env["TELEGRAM_BOT_TOKEN"] = fake.token
        self.env["PTB_TIMEDELTA"] = "1"
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = tmp_path / "service.log"
        self.runs = 0

    # --- CLI ----------------------------------------------------------------

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", *args, "--config", str(self.config)],
            capture_output=True,
            text=True,
            timeout=60,
            env=self.env,
            check=False,
        )

    def add_programme(self, name: str = "demo") -> None:
        done = self.cli("programme", "add", "--name", name, "--timezone", "Europe/London")
        assert done.returncode == 0, done.stderr

    def enrol(self, *extra: str) -> JSONDict:
        done = self.cli(
            "enrol", "--programme", "demo", "--channel", "telegram",
            "--safe-word", SAFE_WORD, "--json", "--consent-version", "v1",
            "--consent-date", "2026-01-01", "--consent-by", "Test Worker", *extra,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        result: JSONDict = json.loads(done.stdout)
        return result

    # --- the service process ----------------------------------------------------

    def start(self) -> None:
        self.runs += 1
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot", "run", "--config", str(self.config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log_text()
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"service did not start: {self.log_text()}")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> int:
        """SIGTERM; returns the exit code (must be quick and clean)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=20)
        self.proc = None
        return code

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(timeout=10)
        self.proc = None

    def close(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc = None

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    # --- the database (read-only, while the service may run) -------------------------

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return self.db.query(sql, params)

    def scalar(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        return self.query(sql, params)[0][0]

    def wait_quiet(self, timeout: float = 10) -> None:
        """Until the outbox has nothing pending or in flight (every send recorded)."""
        deadline = time.monotonic() + timeout
        sql = "SELECT COUNT(*) FROM outbox WHERE state IN ('pending', 'sending')"
        while self.scalar(sql):
            assert time.monotonic() < deadline, "outbox never went quiet"
            time.sleep(0.05)

    def db_bytes(self) -> bytes:
        return self.db.stored_bytes()

    def answers(self, pseudonym: str, timepoint: str = "T0") -> dict[str, Answer]:
        """Her answers, decrypted with the key file."""

        async def read() -> dict[str, Answer]:
            config = load_config(self.config, env={})
            ring, _ = load_or_create_keyring(Path(config.security.key_file))
            db = await self.db.open()
            try:
                participant = await Participants(db, ring).by_pseudonym(
                    pseudonym, Scope.installation()
                )
                assert participant is not None
                return await Answers(db, ring).for_timepoint(participant.id, timepoint)
            finally:
                await db.close()

        return asyncio.run(read())

    def escalations(self) -> list[tuple[str, str | None, str, tuple[str, ...]]]:
        """(code, her pseudonym, level, reasons) of every escalation, reasons opened."""
        return escalation_rows(self.db, self.db_path.parent / "f.keys")

    def status(self, pseudonym: str) -> str:
        return str(self.scalar("SELECT status FROM participants WHERE pseudonym = ?", (pseudonym,)))


# --- her side of the chat ----------------------------------------------------------------


def bot_messages(fake: FakeTelegram, chat: int) -> list[JSONDict]:
    return [m for m in fake.visible(chat) if m["from"]["is_bot"]]


def next_bot_message(fake: FakeTelegram, chat: int, after: int, timeout: float = 10) -> JSONDict:
    """The first visible bot message with an id above ``after`` that asks something."""
    found: list[JSONDict] = []

    def asked(f: FakeTelegram) -> bool:
        newer = [m for m in bot_messages(f, chat) if m["message_id"] > after]
        asking = [m for m in newer if "reply_markup" in m]
        found[:] = asking or []
        return bool(asking)

    fake.wait_for(asked, timeout=timeout)
    return found[0]


def buttons(message: JSONDict) -> list[str]:
    markup = message.get("reply_markup") or {}
    return [b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row]


def item_of(message: JSONDict) -> str:
    return buttons(message)[0].split("|")[0]


def press(fake: FakeTelegram, chat: int, message: JSONDict, data: str) -> int:
    return fake.user_presses(chat, message["message_id"], data)


def tick(fake: FakeTelegram, chat: int, message: JSONDict, code: str) -> None:
    """Tick one option of a multi-choice keyboard and wait until the tick shows."""
    item = item_of(message)
    fake.user_presses(chat, message["message_id"], f"{item}|{code}|+")

    def shown(f: FakeTelegram) -> bool:
        now = {m["message_id"]: m for m in f.visible(chat)}[message["message_id"]]
        return f"{item}|{code}|-" in buttons(now)

    fake.wait_for(shown)


def current(fake: FakeTelegram, chat: int, message: JSONDict) -> JSONDict:
    return {m["message_id"]: m for m in fake.visible(chat)}[message["message_id"]]
