"""``followup staff|programme set-routes|escalations|audit`` as an operator types them."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.channels.base import Inbound
from bot.channels.console import ConsoleChannel
from bot.cli.main import app as cli
from bot.config import load_config
from bot.runtime.app import open_app
from tests.bot.conftest import enrol_console
from tests.conftest import isolated_config_file


@pytest.fixture
def cfg_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return isolated_config_file(tmp_path, monkeypatch)


def followup(cfg: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, [*args, "--config", str(cfg)], env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


async def _raise_urgent(cfg: Path) -> tuple[str, str]:
    app = await open_app(load_config(cfg, env={}), {"console": ConsoleChannel()})
    try:
        her = await enrol_console(app)
        await app.service.begin_contact(her.id, "T0")
        for text in ("yes", "yes", "2", "1"):  # gate, consent, not safe now, wants help today
            await app.handle_inbound(Inbound("console", "console:alice", text))
        row = await app.db.fetchone("SELECT code FROM escalations")
        assert row is not None
        return str(row[0]), her.pseudonym
    finally:
        await app.close()


def setup(cfg: Path) -> tuple[str, str]:
    assert followup(cfg, "staff", "add", "--name", "ana", "--role", "wss",
                    "--phone", "+44 7911 123456", "--telegram-user-id", "700001")[0] == 0  # fmt: skip
    assert followup(cfg, "staff", "add", "--name", "bea", "--role", "wss")[0] == 0
    code, pseudonym = asyncio.run(_raise_urgent(cfg))
    return code, pseudonym


def test_staff_add_list_and_routes(cfg_file: Path) -> None:
    code, out, _ = followup(cfg_file, "staff", "add", "--name", "ana", "--role", "wss",
                            "--phone", "07911 123456", "--telegram-user-id", "700001")  # fmt: skip
    assert code == 0 and "alerts by telegram, sms" in out
    code, _, err = followup(
        cfg_file, "staff", "add", "--name", "x", "--role", "wss", "--phone", "12"
    )
    assert code == 2 and err.count("\n") == 1 and "--phone" in err
    code, _, err = followup(cfg_file, "staff", "add", "--name", "ana", "--role", "wss")
    assert code == 2 and "exists already" in err
    code, _, err = followup(cfg_file, "staff", "add", "--name", "z", "--role", "chief")
    assert code == 2 and "--role" in err
    code, out, _ = followup(cfg_file, "staff", "list")
    assert code == 0 and "ana" in out and "7911" not in out and "700001" not in out
    stored = b"".join(
        p.read_bytes() for p in cfg_file.parent.iterdir() if p.name.startswith("f.db")
    )
    assert b"7911123456" not in stored and b"700001" not in stored

    asyncio.run(_raise_urgent(cfg_file))  # creates the 'demo' programme
    code, out, _ = followup(cfg_file, "programme", "set-routes", "demo", "--on-call", "ana",
                            "--urgent-repeat-minutes", "5", "--digest-hour", "8")  # fmt: skip
    assert code == 0
    assert "on call ana" in out and "URGENT repeats every 5 min" in out and "08:00" in out
    code, _, err = followup(cfg_file, "programme", "set-routes", "demo", "--on-call", "nobody")
    assert code == 2 and "no staff member named 'nobody'" in err


def test_escalations_list_show_ack_resolve(cfg_file: Path) -> None:
    code, pseudonym = setup(cfg_file)
    exit_code, out, _ = followup(cfg_file, "escalations", "list", "--open", "--level", "URGENT")
    assert exit_code == 0 and code in out and pseudonym in out and "not_safe_wants_help" in out
    assert (
        followup(cfg_file, "escalations", "list", "--level", "HIGH")[1].strip() == "no escalations"
    )

    exit_code, out, _ = followup(cfg_file, "escalations", "show", code, "--by", "bea")
    assert exit_code == 0 and f"{code} URGENT (open)" in out and "not safe now" in out

    exit_code, out, _ = followup(cfg_file, "escalations", "ack", code.lower(), "--by", "ana",
                                 "--note", "called her back, she is at her sister's")  # fmt: skip
    assert exit_code == 0 and out.strip() == f"{code} acknowledged by ana"
    exit_code, out, _ = followup(cfg_file, "escalations", "ack", code, "--by", "ana")
    assert exit_code == 0 and "already acknowledged" in out
    exit_code, out, _ = followup(cfg_file, "escalations", "resolve", code, "--by", "bea")
    assert exit_code == 0 and out.strip() == f"{code} resolved by bea"
    exit_code, out, _ = followup(cfg_file, "escalations", "list", "--open")
    assert out.strip() == "no escalations"
    exit_code, out, _ = followup(cfg_file, "escalations", "show", code)
    assert "acknowledged by ana" in out and "resolved by bea" in out
    assert "called her back, she is at her sister's" in out
    stored = b"".join(
        p.read_bytes() for p in cfg_file.parent.iterdir() if p.name.startswith("f.db")
    )
    assert b"sister" not in stored  # the note is sealed

    exit_code, out, _ = followup(cfg_file, "audit", "--participant", pseudonym)
    assert exit_code == 0
    for action in ("escalation_raised", "escalation_notified", "escalation_viewed",
                   "escalation_acknowledged", "escalation_note", "escalation_resolved"):  # fmt: skip
        assert action in out, action
    assert "ana (cli)" in out and "bea (cli)" in out
    assert "console:alice" not in out and "7911" not in out


@pytest.mark.parametrize(
    "args",
    [
        ("escalations", "show", "E-22222"),
        ("escalations", "ack", "E-22222", "--by", "ana"),
        ("escalations", "resolve", "nonsense", "--by", "ana"),
        ("escalations", "ack", "{code}", "--by", "stranger"),
        ("escalations", "list", "--level", "SEVERE"),
        ("audit", "--participant", "P-22222"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(cfg_file: Path, args: tuple[str, ...]) -> None:
    code, _ = setup(cfg_file)
    exit_code, out, err = followup(cfg_file, *(a.format(code=code) for a in args))
    assert exit_code == 2
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "Traceback" not in out + err
