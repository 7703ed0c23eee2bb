"""``followup demo`` as a new user runs it: a subprocess with piped answers.

After the run, the database file, its WAL and shared memory must not contain
the safe word, the code word, the free-text answer or her contact detail.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import load_config
from bot.crypto import load_or_create_keyring
from bot.store.db import Database
from bot.store.sessions import Answers

FREE_TEXT = "Gwendolyn from Leeds knows everything"
PHONE = "+447700900123"
SECRETS = ("pineapple", "bluebird", "Gwendolyn", "447700900123")


def run_demo(tmp_path: Path, lines: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "followup.toml"
    config.write_text(
        f'[database]\npath = "{tmp_path / "f.db"}"\n'
        f'[security]\nkey_file = "{tmp_path / "f.keys"}"\n'
        "[survey]\nfree_text = true\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOLLOWUP")}
    env["COLUMNS"] = "200"
    return subprocess.run(
        [sys.executable, "-m", "bot", "demo", "--config", str(config), *args],
        input="".join(f"{line}\n" for line in lines),
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


def scripted_t0() -> list[str]:
    """Gate, code word, then '1' for every item with the free text in between (a re-ask elsewhere)."""
    lines = ["yes", "bluebird"]
    for _ in range(45):
        lines += ["1", FREE_TEXT]
    return lines


def test_piped_demo_completes_t0_and_leaves_no_plaintext(tmp_path: Path) -> None:
    result = run_demo(tmp_path, scripted_t0(), "--address", f"console:{PHONE}")
    assert result.returncode == 0, result.stderr
    assert "Session ended: completed" in result.stdout
    assert "WSS ALERT" in result.stdout  # '1' = yes to strangulation etc.
    assert "Traceback" not in result.stdout + result.stderr

    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("f.db"))
    assert len(stored) > 10_000
    for secret in SECRETS:
        assert secret.encode() not in stored, f"{secret!r} found in the database files"
        assert secret.lower().encode() not in stored.lower()

    async def free_text_was_stored() -> str | None:
        config = load_config(tmp_path / "followup.toml", env={})
        ring, _ = load_or_create_keyring(Path(config.security.key_file))
        db = await Database.open(config.database.path)
        row = await db.fetchone("SELECT participant_id FROM answers LIMIT 1")
        assert row is not None
        answers = await Answers(db, ring).for_timepoint(row[0], "T0")
        await db.close()
        comment = answers.get("comments")
        return str(comment.value) if comment else None

    assert asyncio.run(free_text_was_stored()) == FREE_TEXT  # the scan looked for something real


def test_safe_word_ends_demo_with_one_line(tmp_path: Path) -> None:
    result = run_demo(tmp_path, ["yes", "bluebird", "1", "PINEAPPLE!"])
    assert result.returncode == 0
    assert result.stdout.strip().splitlines()[-1].startswith("Session ended: safe word")


def test_end_of_input_ends_cleanly(tmp_path: Path) -> None:
    result = run_demo(tmp_path, ["yes"])
    assert result.returncode == 0
    assert "Session ended: end of input" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--safe-word", "stop"], "carrier keyword"),
        (["--safe-word", "OptOut"], "carrier keyword"),
        (["--safe-word", "yes"], "at least 4 letters"),
        (["--safe-word", "never"], "reply or carrier keyword"),
        (["--safe-word", "two words"], "single word"),
        (["--safe-word", "1234"], "not be a number"),
        (["--code-word", "pineapple"], "must all differ"),
        (["--language", "xx"], "no catalog for language 'xx'"),
    ],
)
def test_bad_enrolment_values_exit_2_with_one_line(
    tmp_path: Path, args: list[str], message: str
) -> None:
    result = run_demo(tmp_path, [], *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_config_names_key_and_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[sms]\nmax_per_second = 'fast'\n")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "check-config", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert str(bad) in result.stderr and "sms.max_per_second" in result.stderr
