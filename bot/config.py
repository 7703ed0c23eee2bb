"""Configuration: one TOML file, defaults that work without it, secrets from the environment.

Every key is declared here with its type and default; ``deploy/followup.example.toml``
documents them. Every wrong key or value of a file is reported at once, each as
``file: key 'a.b': problem``.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class ConfigError(ValueError):
    """Configuration problems, each naming the file and the key (one line each)."""

    def __init__(self, *problems: str) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


#: ``Config.source`` when no file was given: the defaults run the demo.
NO_FILE = "<defaults>"


@dataclass(frozen=True)
class DatabaseConfig:
    path: str = "var/followup.db"
    #: ``sqlite:///PATH`` or ``postgresql://USER@HOST:PORT/DB``; empty: SQLite at ``path``.
    url: str = ""


#: What ``database.url`` may start with (``postgres://`` is libpq's other spelling).
DATABASE_URL_SCHEMES = ("sqlite:///", "postgresql://", "postgres://")


def redact_database_url(url: str) -> str:
    """``url`` fit for a log line or an error: a password in it becomes ``***``."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    authority, slash, tail = rest.partition("/")
    credentials, at, host = authority.rpartition("@")
    if at and ":" in credentials:
        credentials = credentials.split(":", 1)[0] + ":***"
    shown = f"{scheme}://{credentials}{at}{host}{slash}{tail}"
    for key in ("password=",):  # a password can also ride in the query string
        if key in shown:
            head, _, after = shown.partition(key)
            _, amp, others = after.partition("&")
            shown = f"{head}{key}***{amp}{others}"
    return shown


@dataclass(frozen=True)
class SecurityConfig:
    key_file: str = "var/followup.keys"


@dataclass(frozen=True)
class SurveyConfig:
    file: str = ""
    free_text: bool = False


@dataclass(frozen=True)
class SafetyConfig:
    decoy_reply: bool = True
    idle_minutes: int = 30


@dataclass(frozen=True)
class TelegramConfig:
    token: str = ""
    bot_username: str = ""
    mode: str = "polling"
    api_base_url: str = "https://api.telegram.org/bot"
    webhook_url: str = ""
    webhook_path: str = "/telegram/webhook"
    webhook_secret: str = ""
    disable_notification: bool = True
    delete_after_seconds: float = 5.0
    max_per_second: float = 30.0
    max_per_chat_per_second: float = 1.0
    #: Messages one chat may get at once before ``max_per_chat_per_second`` holds them back.
    chat_burst: int = 3
    enrol_token_days: int = 14


@dataclass(frozen=True)
class SmsConfig:
    account_sid: str = ""
    auth_token: str = ""
    messaging_service_sid: str = ""
    from_number: str = ""
    api_base_url: str = "https://api.twilio.com"
    public_url: str = ""
    max_per_second: float = 1.0
    max_per_number_per_second: float = 1.0
    request_timeout_seconds: float = 15.0
    delete_provider_records: bool = True
    default_region: str = "GB"


@dataclass(frozen=True)
class WebConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    #: "auto": Secure cookies unless the request came to localhost; "always" / "never".
    secure_cookies: str = "auto"


@dataclass(frozen=True)
class SchedulerConfig:
    sweep_seconds: float = 30.0
    quiet_start: str = "21:00"
    quiet_end: str = "08:00"


@dataclass(frozen=True)
class EscalationConfig:
    urgent_repeat_minutes: float = 10.0
    urgent_backup_minutes: float = 30.0
    high_repeat_minutes: float = 60.0
    digest_hour: int = 9
    monitor_seconds: float = 5.0


@dataclass(frozen=True)
class RetentionConfig:
    contact_days: int = 90
    records_days: int = 30
    dedupe_days: int = 14
    run_at: str = "03:30"


@dataclass(frozen=True)
class LoggingConfig:
    level: str = "INFO"


@dataclass(frozen=True)
class Config:
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    security: SecurityConfig = field(default_factory=SecurityConfig)
    survey: SurveyConfig = field(default_factory=SurveyConfig)
    safety: SafetyConfig = field(default_factory=SafetyConfig)
    telegram: TelegramConfig = field(default_factory=TelegramConfig)
    sms: SmsConfig = field(default_factory=SmsConfig)
    web: WebConfig = field(default_factory=WebConfig)
    scheduler: SchedulerConfig = field(default_factory=SchedulerConfig)
    escalation: EscalationConfig = field(default_factory=EscalationConfig)
    retention: RetentionConfig = field(default_factory=RetentionConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    source: str = NO_FILE

    def path(self, value: str) -> Path:
        """Resolve a configured path: relative paths are relative to the working directory."""
        return Path(value).expanduser()

    def database_url(self) -> str:
        """``database.url``, or ``sqlite:///`` + ``database.path`` when the url is empty."""
        return self.database.url or f"sqlite:///{self.path(self.database.path)}"


#: Environment variables that override keys (secrets belong here, not in files).
ENV_OVERRIDES: dict[str, tuple[str, str]] = {
    "TELEGRAM_BOT_TOKEN": ("telegram", "token"),
    "TWILIO_ACCOUNT_SID": ("sms", "account_sid"),
    "TWILIO_AUTH_TOKEN": ("sms", "auth_token"),
    "FOLLOWUP_KEY_FILE": ("security", "key_file"),
    "FOLLOWUP_DATABASE": ("database", "path"),
    "FOLLOWUP_DATABASE_URL": ("database", "url"),
    "FOLLOWUP_TELEGRAM_WEBHOOK_SECRET": ("telegram", "webhook_secret"),
}

_CHOICES = {
    ("telegram", "mode"): ("polling", "webhook"),
    ("logging", "level"): ("DEBUG", "INFO", "WARNING", "ERROR"),
    ("web", "secure_cookies"): ("auto", "always", "never"),
}


def load_config(
    path: str | Path | None = None, env: typing.Mapping[str, str] | None = None
) -> Config:
    """Load ``path`` (or ``$FOLLOWUP_CONFIG``; none means defaults), then apply env overrides.

    Every problem of the file is reported in one ``ConfigError``: one run shows them all.
    """
    env = os.environ if env is None else env
    chosen = path or env.get("FOLLOWUP_CONFIG") or None
    raw: dict[str, Any] = {}
    source = NO_FILE
    if chosen:
        source = str(chosen)
        try:
            raw = tomllib.loads(Path(chosen).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{source}: no such config file") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{source}: not valid TOML ({exc})") from None
    problems: list[str] = []
    sections: dict[str, Any] = {}
    for key in raw:
        if key not in _section_types():
            problems.append(f"{source}: unknown section or key '{key}'")
    for name, cls in _section_types().items():
        given = raw.get(name, {})
        if not isinstance(given, dict):
            problems.append(f"{source}: '{name}' must be a table ([{name}])")
            given = {}
        sections[name] = _build(cls, given, name, source, problems)
    for var, (section, key) in ENV_OVERRIDES.items():
        if env.get(var):
            sections[section] = dataclasses.replace(sections[section], **{key: env[var]})
    config = Config(**sections, source=source)
    problems.extend(_value_problems(config))
    if problems:
        raise ConfigError(*problems)
    return config


def missing_key(config: Config, key: str, why: str) -> str:
    """An empty key that a command needs, named where she can set it (there may be no file yet)."""
    if config.source == NO_FILE:
        return (
            f"no config file; set {key} in a config file (--config FILE or $FOLLOWUP_CONFIG,"
            f" see deploy/followup.example.toml); {why}"
        )
    return f"{config.source}: key '{key}' is empty; {why}"


def _section_types() -> dict[str, type]:
    hints = typing.get_type_hints(Config)
    return {f.name: hints[f.name] for f in dataclasses.fields(Config) if f.name != "source"}


def _build(cls: type, given: dict[str, Any], section: str, source: str, problems: list[str]) -> Any:
    """The section from the file's keys; a wrong key is noted in ``problems`` and left default."""
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    for key, value in given.items():
        where = f"{source}: key '{section}.{key}'"
        if key not in known:
            problems.append(f"{where}: unknown key (known: {', '.join(sorted(known))})")
            continue
        try:
            values[key] = _coerce(value, hints[key], where)
        except ConfigError as exc:
            problems.extend(exc.problems)
    return cls(**values)


def _coerce(value: Any, expected: Any, where: str) -> Any:
    if isinstance(expected, types.UnionType):
        expected = next(a for a in typing.get_args(expected) if a is not type(None))
    if expected is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {value!r}")
        return value
    if expected is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected a whole number, got {value!r}")
        return value
    if expected is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if expected is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected text, got {value!r}")
        return value
    return value


_POSITIVES = (
    ("telegram", "max_per_second"),
    ("telegram", "max_per_chat_per_second"),
    ("telegram", "chat_burst"),
    ("sms", "max_per_second"),
    ("sms", "max_per_number_per_second"),
    ("sms", "request_timeout_seconds"),
    ("scheduler", "sweep_seconds"),
    ("web", "port"),
    ("safety", "idle_minutes"),
    ("telegram", "enrol_token_days"),
    ("escalation", "urgent_repeat_minutes"),
    ("escalation", "urgent_backup_minutes"),
    ("escalation", "high_repeat_minutes"),
    ("escalation", "monitor_seconds"),
    ("retention", "contact_days"),
    ("retention", "records_days"),
    ("retention", "dedupe_days"),
)
_TIMES_OF_DAY = (("scheduler", "quiet_start"), ("scheduler", "quiet_end"), ("retention", "run_at"))


def _value_problems(config: Config) -> list[str]:
    """Every value outside its allowed range, each naming the file and the key."""
    problems: list[str] = []
    for (section, key), allowed in _CHOICES.items():
        value = getattr(getattr(config, section), key)
        if value not in allowed:
            problems.append(
                f"{config.source}: key '{section}.{key}': must be one of {', '.join(allowed)}, got {value!r}"
            )
    for section, key in _POSITIVES:
        if getattr(getattr(config, section), key) <= 0:
            problems.append(f"{config.source}: key '{section}.{key}': must be above zero")
    if not 0 <= config.escalation.digest_hour <= 23:
        problems.append(f"{config.source}: key 'escalation.digest_hour': must be 0 to 23")
    for section, key in _TIMES_OF_DAY:
        value = getattr(getattr(config, section), key)
        hour, _, minute = value.partition(":")
        if not (hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60):
            problems.append(
                f"{config.source}: key '{section}.{key}': expected HH:MM, got {value!r}"
            )
    url = config.database.url
    if url and (not url.startswith(DATABASE_URL_SCHEMES) or not url.partition("://")[2].strip("/")):
        problems.append(
            f"{config.source}: key 'database.url' (or $FOLLOWUP_DATABASE_URL): expected sqlite:///PATH or"
            f" postgresql://USER@HOST:PORT/DATABASE, got {redact_database_url(url)!r}"
        )
    if config.sms.public_url and not config.sms.public_url.startswith(("https://", "http://")):
        problems.append(f"{config.source}: key 'sms.public_url': must start with https://")
    return problems
