"""Every sealed column and every blind index, with how each one's associated data is built.

Key rotation re-seals and re-indexes exactly what is listed here: a test fails when a
migration adds an ``_enc`` or ``_idx`` column that is not. Table and column names are the
store's knowledge; the rest of the code sees only the registry.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.store.db import Row


def _key(*columns: str) -> Callable[[Row], str]:
    def aad_part(row: Row) -> str:
        return ":".join(str(row[c]) for c in columns)

    return aad_part


@dataclass(frozen=True)
class Sealed:
    """One encrypted column and how its associated data is built ("table:column:row")."""

    table: str
    column: str
    prefix: str
    row_key: Callable[[Row], str]
    key_columns: tuple[str, ...]

    def aad(self, row: Row) -> str:
        return f"{self.prefix}:{self.row_key(row)}"


def _sealed(table: str, column: str, prefix: str, *key_columns: str) -> Sealed:
    return Sealed(table, column, prefix, _key(*key_columns), key_columns)


#: Every sealed column. A test fails when a migration adds an ``_enc`` column not listed.
SEALED: tuple[Sealed, ...] = (
    _sealed("participants", "address_enc", "participants:address", "id"),
    _sealed("participants", "windows_enc", "participants:windows", "id"),
    _sealed("participants", "research_enc", "participants:research", "id"),
    _sealed("staff", "telegram_enc", "staff:telegram", "id"),
    _sealed("staff", "phone_enc", "staff:phone", "id"),
    _sealed("sessions", "state_enc", "sessions:state", "id"),
    _sealed("answers", "value_enc", "answers:value", "participant_id", "timepoint", "item_id"),
    _sealed("outbox", "payload_enc", "outbox:payload", "lane"),
    _sealed("escalation_notes", "note_enc", "escalation_notes:note", "id"),
    _sealed("escalations", "reasons_enc", "escalations:reasons", "code"),
    _sealed("transcript", "ref_enc", "transcript:ref", "participant_id"),
    _sealed("staff_logins", "totp_enc", "staff_logins:totp", "staff_id"),
    _sealed(
        "research_answers",
        "value_enc",
        "research_answers:value",
        "research_id",
        "timepoint",
        "item_id",
    ),
)


@dataclass(frozen=True)
class Indexed:
    """A blind index recomputed from the sealed value next to it."""

    table: str
    column: str
    source: Sealed
    purpose: Callable[[Row], str]
    extra_columns: tuple[str, ...] = ()


def _by_name(table: str, column: str) -> Sealed:
    return next(s for s in SEALED if s.table == table and s.column == column)


INDEXED: tuple[Indexed, ...] = (
    Indexed(
        "participants",
        "address_idx",
        _by_name("participants", "address_enc"),
        lambda r: f"address:{r['channel']}",
        ("channel",),
    ),
    Indexed("staff", "telegram_idx", _by_name("staff", "telegram_enc"), lambda r: "staff:telegram"),
    Indexed("staff", "phone_idx", _by_name("staff", "phone_enc"), lambda r: "staff:phone"),
    Indexed(
        "transcript",
        "ref_idx",
        _by_name("transcript", "ref_enc"),
        lambda r: f"transcript:{r['channel']}",
        ("channel",),
    ),
)

#: Hashes whose clear value is never stored: looked up under retired lookup subkeys
#: until they expire (see RetiredKey).
NOT_RECOMPUTABLE = ("inbound_seen.key", "enrol_tokens.token_idx")


def sealed_columns() -> Sequence[str]:
    return [f"{s.table}.{s.column}" for s in SEALED]
