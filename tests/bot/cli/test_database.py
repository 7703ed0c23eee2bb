"""``followup db migrate``: from which version to which, on SQLite and PostgreSQL, and the
URL shown without its password."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from bot.cli.main import app
from bot.store.schema import MIGRATIONS

from .conftest import Invoke, ok


def test_migrate_says_from_which_version_to_which_then_that_nothing_is_left(cli: Invoke) -> None:
    assert f"migrated from version 0 to {len(MIGRATIONS)}" in ok(cli("db", "migrate"))
    again = ok(cli("db", "migrate"))
    assert f"schema at version {len(MIGRATIONS)}, nothing to migrate" in again


def test_migrate_on_postgresql_never_shows_the_password(tmp_path: Path, postgres_url: str) -> None:
    with_password = postgres_url.replace("postgres@", "postgres:not-shown-pw@", 1)
    config = tmp_path / "pg.toml"
    config.write_text(
        f'[database]\nurl = "{with_password}"\n[security]\nkey_file = "{tmp_path / "f.keys"}"\n'
    )
    runner = CliRunner()
    first = runner.invoke(app, ["db", "migrate", "--config", str(config)])
    assert first.exit_code == 0, (first.stdout, first.stderr)
    assert f"migrated from version 0 to {len(MIGRATIONS)}" in first.stdout
    assert "not-shown-pw" not in first.stdout + first.stderr and "postgres:***@" in first.stdout
    second = runner.invoke(app, ["db", "migrate", "--config", str(config)])
    assert "nothing to migrate" in second.stdout


def test_key_rotation_on_postgresql_is_refused_before_anything_changes(
    tmp_path: Path, postgres_url: str
) -> None:
    config = tmp_path / "pg.toml"
    key_file = tmp_path / "f.keys"
    config.write_text(f'[database]\nurl = "{postgres_url}"\n[security]\nkey_file = "{key_file}"\n')
    result = CliRunner().invoke(app, ["keys", "rotate", "--config", str(config)])
    assert result.exit_code == 2
    assert "key rotation on PostgreSQL is not built yet" in result.stderr
    assert "nothing was changed" in result.stderr and not key_file.exists()
