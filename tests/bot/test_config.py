"""Config: defaults, env overrides, and errors that name the key and the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_config, redact_database_url

EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "followup.example.toml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "f.toml"
    path.write_text(text)
    return path


def test_defaults_without_a_file() -> None:
    config = load_config(None, env={})
    assert config.database.path == "var/followup.db"
    assert config.telegram.mode == "polling"


def test_example_file_is_valid_and_documents_every_key() -> None:
    config = load_config(EXAMPLE, env={})
    text = EXAMPLE.read_text()
    import dataclasses

    for section in dataclasses.fields(config):
        if section.name == "source":
            continue
        assert f"[{section.name}]" in text
        for key in dataclasses.fields(getattr(config, section.name)):
            assert f"{key.name} =" in text, f"{section.name}.{key.name} undocumented"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[sms]\nmax_per_second = 'fast'\n", "key 'sms.max_per_second': expected a number"),
        ("[sms]\nmax_per_secnd = 1\n", "key 'sms.max_per_secnd': unknown key"),
        ("[smss]\n", "unknown section or key 'smss'"),
        ("[telegram]\nmode = 'push'\n", "key 'telegram.mode': must be one of polling, webhook"),
        ("[web]\nport = 0\n", "key 'web.port': must be above zero"),
        ("[telegram]\nchat_burst = 0\n", "key 'telegram.chat_burst': must be above zero"),
        ("[telegram]\nchat_burst = 2.5\n", "key 'telegram.chat_burst': expected a whole number"),
        ("[scheduler]\nquiet_start = '9pm'\n", "key 'scheduler.quiet_start': expected HH:MM"),
        ("[survey]\nfree_text = 'yes'\n", "key 'survey.free_text': expected true or false"),
        ("sms = 3\n", "'sms' must be a table"),
        ("[sms\n", "not valid TOML"),
        ("[database]\nurl = 'mysql://db/x'\n", "key 'database.url' (or $FOLLOWUP_DATABASE_URL)"),
        ("[database]\nurl = 'postgresql://'\n", "expected sqlite:///PATH or postgresql://"),
        ("[database]\nurl = 3\n", "key 'database.url': expected text"),
    ],
)
def test_errors_name_key_and_file(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert str(info.value).startswith(str(path))
    assert message in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "nope.toml", env={})


def test_env_overrides_secrets(tmp_path: Path) -> None:
    path = write(tmp_path, "[telegram]\ntoken = 'from-file'\n")
    config = load_config(path, env={"TELEGRAM_BOT_TOKEN": "from-env", "TWILIO_AUTH_TOKEN": "t"})
    assert config.telegram.token == "from-env"
    assert config.sms.auth_token == "t"


def test_followup_config_env_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[web]\nport = 9000\n")
    assert load_config(None, env={"FOLLOWUP_CONFIG": str(path)}).web.port == 9000


def test_every_problem_of_a_file_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, "[web]\nport = 0\nhots = 'x'\n[telegram]\nmode = 'push'\n[smss]\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    problems = info.value.problems
    assert len(problems) == 4, problems
    assert all(p.startswith(f"{path}: ") for p in problems)
    for key in ("'web.port'", "'web.hots'", "'telegram.mode'", "'smss'"):
        assert sum(key in p for p in problems) == 1, (key, problems)


def test_database_url_from_the_environment_wins_and_the_path_is_the_default(tmp_path: Path) -> None:
    path = write(tmp_path, "[database]\npath = 'a.db'\nurl = 'sqlite:///b.db'\n")
    assert load_config(path, env={}).database_url() == "sqlite:///b.db"
    url = "postgresql://followup@127.0.0.1:5432/followup?sslmode=require"
    assert load_config(path, env={"FOLLOWUP_DATABASE_URL": url}).database_url() == url
    only_path = write(tmp_path, "[database]\npath = 'a.db'\n")
    assert load_config(only_path, env={}).database_url() == "sqlite:///a.db"


def test_a_bad_database_url_never_shows_its_password(tmp_path: Path) -> None:
    path = write(tmp_path, "[database]\nurl = 'mysql://bob:s3cret@db/x'\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert "s3cret" not in str(info.value) and "bob:***@db" in str(info.value)
    assert redact_database_url("postgresql://u:pw@h/d?password=pw&sslmode=require") == (
        "postgresql://u:***@h/d?password=***&sslmode=require"
    )
