"""The database, its WAL and shared memory, exports and reports are created mode 0600."""

from __future__ import annotations

import stat
from pathlib import Path

from typer.testing import CliRunner

from bot.cli.main import app
from bot.datarights.export import FORMATS, write_export
from bot.private_files import write_private_text
from bot.text.surveys import load_survey


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_cli_created_database_and_exports_are_owner_only(tmp_path: Path) -> None:
    config = tmp_path / "f.toml"
    config.write_text(
        f'[database]\npath = "{tmp_path / "db" / "f.db"}"\n'
        f'[security]\nkey_file = "{tmp_path / "f.keys"}"\n'
    )
    runner = CliRunner()

    def cli(*args: str) -> None:
        result = runner.invoke(app, [*args, "--config", str(config)])
        assert result.exit_code == 0, result.output

    cli("programme", "add", "--name", "p1", "--timezone", "UTC")
    database = tmp_path / "db" / "f.db"
    assert mode(database) == 0o600
    for side in ("f.db-wal", "f.db-shm"):
        if (tmp_path / "db" / side).exists():
            assert mode(tmp_path / "db" / side) == 0o600, side
    for fmt in FORMATS:
        out = tmp_path / f"export-{fmt}"
        cli("export", "--programme", "p1", "--format", fmt, "--out", str(out))
        files = list(out.iterdir())
        assert files and all(mode(f) == 0o600 for f in files), [(f, oct(mode(f))) for f in files]
    report = tmp_path / "report.html"
    cli("report", "--programme", "p1", "--out", str(report))
    assert mode(report) == 0o600


def test_an_export_written_over_a_readable_file_is_narrowed(tmp_path: Path) -> None:
    target = tmp_path / "responses.csv"
    target.write_text("old")
    target.chmod(0o644)
    write_private_text(target, "new")
    assert target.read_text() == "new" and mode(target) == 0o600


def test_a_statistics_file_written_over_a_readable_one_is_private(tmp_path: Path) -> None:
    target = tmp_path / "responses.sav"
    target.write_text("old")
    target.chmod(0o644)
    write_export(tmp_path, "sav", load_survey(), [])
    assert mode(target) == 0o600 and target.read_bytes()[:4] == b"$FL2"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "codebook.csv", "dictionary.csv", "responses.sav", "summary.csv",
    ]  # fmt: skip
