"""The README's walkthroughs run as written: every marked shell block, in a sandbox.

A block is a walkthrough when an HTML comment ``<!-- walkthrough: NAME -->`` stands
before it; blocks of one NAME run in order in one sandbox (temp directory, its own
config, key file and database, console and SMS channels only, nothing sent anywhere),
on the day the README's samples were made. Optional parts of the comment:
``needs: COMMAND`` runs first (what the text says exists already) and ``stdin: A, B``
is what the reader would type at the hidden prompts. An unmarked block right after a
walkthrough block is its sample output: each of its lines must appear in what the
block printed (pseudonyms are matched in the order they first appear, run times too).
"""

from __future__ import annotations

import codecs
import re
import shlex
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.main import app
from bot.clock import SystemClock

README = Path(__file__).resolve().parents[2] / "README.md"
#: The day the samples were made: 1 December 2026, 10:00 UTC (a Tuesday).
SAMPLE_DAY = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
PSEUDONYM = re.compile(r"\bP-[0-9A-Z]{5}\b")
SECONDS = re.compile(r"\b\d+\.\d\d s\b")
MARKER = re.compile(r"<!-- walkthrough: (?P<body>.*?) -->\s*\n```sh\n(?P<code>.*?)```\n", re.S)
FOLLOWUP = ("followup", ".venv/bin/followup")
#: What a sandbox must never see from the environment it runs in.
OUTSIDE = (
    "FOLLOWUP_KEYS", "FOLLOWUP_KEY_FILE", "FOLLOWUP_DATABASE", "TELEGRAM_BOT_TOKEN",
    "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "FOLLOWUP_TELEGRAM_WEBHOOK_SECRET",
)  # fmt: skip


@dataclass
class Block:
    commands: list[str]
    sample: list[str]
    needs: list[str] = field(default_factory=list)
    stdin: str = ""


def walkthroughs(text: str) -> dict[str, list[Block]]:
    """Every marked block by walkthrough name, with its sample output (if one follows)."""
    stories: dict[str, list[Block]] = {}
    for match in MARKER.finditer(text):
        name, *options = (part.strip() for part in match["body"].split(";"))
        block = Block(commands(match["code"]), sample_after(text[match.end() :]))
        for option in options:
            key, _, value = option.partition(":")
            if key == "needs":
                block.needs.append(value.strip())
            elif key == "stdin":
                block.stdin = "".join(f"{line.strip()}\n" for line in value.split(","))
            else:
                raise AssertionError(f"unknown walkthrough option {option!r}")
        stories.setdefault(name, []).append(block)
    return stories


def commands(code: str) -> list[str]:
    """Shell lines of a block: continuations joined, comment lines left out."""
    joined = code.replace("\\\n", " ")
    return [line for line in joined.splitlines() if shlex.split(line, comments=True)]


def sample_after(rest: str) -> list[str]:
    """The lines of a plain block that follows at once (blank lines between allowed)."""
    match = re.match(r"\s*```\n(.*?)```\n", rest, re.S)
    return [line.rstrip() for line in match[1].splitlines() if line.strip()] if match else []


class Sandbox:
    """One walkthrough's world: runs ``followup`` lines in-process, maps pseudonyms."""

    def __init__(self) -> None:
        self.runner = CliRunner()
        self.pseudonyms: dict[str, str] = {}
        self.seen: list[str] = []

    def run(self, line: str, stdin: str) -> str:
        words = shlex.split(self.mine(line), comments=True)
        if "|" in words:
            feeder, words = words[: words.index("|")], words[words.index("|") + 1 :]
            assert feeder[0] == "printf" and len(feeder) == 2, f"cannot run {line!r}"
            stdin = codecs.decode(feeder[1], "unicode_escape")
        if words[:3] == ["python", "-m", "bot"]:
            words = ["followup", *words[3:]]
        assert words[0] in FOLLOWUP, f"a walkthrough runs followup only: {line!r}"
        result = self.runner.invoke(app, words[1:], input=stdin)
        assert result.exit_code == 0, (line, result.stdout, result.stderr)
        for found in PSEUDONYM.findall(result.stdout):
            if found not in self.seen:
                self.seen.append(found)
        return result.stdout

    def mine(self, text: str) -> str:
        """The README's pseudonyms replaced by this sandbox's, in order of first appearance."""

        def swap(match: re.Match[str]) -> str:
            readme = match[0]
            if readme not in self.pseudonyms:
                unused = [p for p in self.seen if p not in self.pseudonyms.values()]
                assert unused, f"{readme} used before any enrolment printed a pseudonym"
                self.pseudonyms[readme] = unused[0]
            return self.pseudonyms[readme]

        return PSEUDONYM.sub(swap, text)


STORIES = walkthroughs(README.read_text(encoding="utf-8"))


def test_the_readme_marks_its_walkthroughs() -> None:
    assert {"accounts", "demo", "export", "keys", "telegram", "waves", "wss"} <= set(STORIES)
    assert any(block.sample for blocks in STORIES.values() for block in blocks)


@pytest.mark.parametrize("name", sorted(STORIES))
def test_walkthrough_runs_as_written(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "followup.toml"
    config.write_text(
        f'[database]\npath = "{tmp_path / "followup.db"}"\n'
        f'[security]\nkey_file = "{tmp_path / "followup.keys"}"\n'
        '[telegram]\nbot_username = "sam_notes_bot"\n'
    )
    for var in OUTSIDE:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("FOLLOWUP_CONFIG", str(config))
    monkeypatch.setattr(SystemClock, "now", lambda _self: SAMPLE_DAY)
    monkeypatch.chdir(tmp_path)
    sandbox = Sandbox()
    for block in STORIES[name]:
        for line in block.needs:
            sandbox.run(line, "")
        printed = "".join(sandbox.run(line, block.stdin) for line in block.commands)
        lines = {SECONDS.sub("#.## s", line.rstrip()) for line in printed.splitlines()}
        for wanted in block.sample:
            expected = SECONDS.sub("#.## s", sandbox.mine(wanted))
            assert expected in lines, (expected, printed)
