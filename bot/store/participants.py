"""Participants: who she is to the system, sealed and pseudonymous.

Her address (chat id, phone) and contact windows are encrypted; look-ups go
through blind indexes; staff know her only by pseudonym.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from bot.clock import iso
from bot.crypto import KeyRing
from bot.store.db import Database, Row, Transaction
from bot.store.ids import new_pseudonym, new_row_id
from bot.store.programmes import Programme, Programmes
from bot.store.scope import OutsideScope, Scope
from conversations.secrets import SecretWords, secret_digest
from conversations.vocabulary import ParticipantStatus

__all__ = ["NewParticipant", "Participant", "Participants", "Programme", "Programmes"]


@dataclass(frozen=True)
class Participant:
    id: str
    pseudonym: str
    programme_id: int
    channel: str
    language: str
    timezone: str
    status: ParticipantStatus
    row: Row

    @property
    def linked(self) -> bool:
        """She has an address (a Telegram chat is linked only once she redeems her token)."""
        return self.row["address_enc"] is not None

    def address(self, ring: KeyRing) -> str | None:
        blob = self.row["address_enc"]
        return ring.open_text(blob, address_aad(self.id)) if blob else None

    def windows(self, ring: KeyRing) -> str:
        blob = self.row["windows_enc"]
        return ring.open_text(blob, windows_aad(self.id)) if blob else ""

    def secrets(self, ring: KeyRing) -> SecretWords:
        def one(column: str) -> frozenset[bytes]:
            value = self.row[column]
            return frozenset({bytes(value)}) if value else frozenset()

        return SecretWords(
            participant_ref=self.id,
            keys=ring.secret_word_keys(),
            safe=one("safe_hash"),
            code=one("code_hash"),
            duress=one("duress_hash"),
        )


def address_aad(participant_id: str) -> str:
    return f"participants:address:{participant_id}"


def windows_aad(participant_id: str) -> str:
    return f"participants:windows:{participant_id}"


def address_purpose(channel: str) -> str:
    return f"address:{channel}"


def _participant(row: Row) -> Participant:
    return Participant(
        id=row["id"],
        pseudonym=row["pseudonym"],
        programme_id=row["programme_id"],
        channel=row["channel"],
        language=row["language"],
        timezone=row["timezone"],
        status=ParticipantStatus(row["status"]),
        row=row,
    )


#: How his programme ended: a drop-out or a completion, each with its own date column.
ProgrammeEnd = Literal["dropout", "completion"]
_END_COLUMNS: dict[ProgrammeEnd, str] = {"dropout": "dropout_on", "completion": "completed_on"}


@dataclass(frozen=True)
class NewParticipant:
    programme_id: int
    channel: str
    language: str
    timezone: str
    enrolled_on: date
    address: str | None = None
    windows: str = ""
    safe_word: str | None = None
    code_word: str | None = None
    duress_word: str | None = None
    start_on: date | None = None
    end_on: date | None = None
    status: ParticipantStatus = ParticipantStatus.ACTIVE


class Participants:
    def __init__(self, db: Database, ring: KeyRing, outside: OutsideScope | None = None) -> None:
        self.db = db
        self.ring = ring
        self.outside = outside

    async def create(self, tx: Transaction, new: NewParticipant, now: datetime) -> Participant:
        """Insert her with sealed address and hashed secret words; returns the stored row."""
        pid = new_row_id()
        key = self.ring.secret_word_keys()[0]
        secret_words = (new.safe_word, new.code_word, new.duress_word)

        def digest(word: str | None) -> bytes | None:
            return secret_digest(key, pid, word) if word else None

        address_idx = address_enc = None
        if new.address is not None:
            address_idx = self.ring.blind_index(address_purpose(new.channel), new.address)
            address_enc = self.ring.seal_text(new.address, address_aad(pid))
        windows_enc = self.ring.seal_text(new.windows, windows_aad(pid)) if new.windows else None
        for _ in range(20):
            pseudonym = new_pseudonym()
            taken = await tx.execute_fetchall(
                "SELECT 1 FROM participants WHERE pseudonym = ?", (pseudonym,)
            )
            if not taken:
                break
        await tx.execute(
            "INSERT INTO participants (id, pseudonym, programme_id, channel, address_idx,"
            " address_enc, language, timezone, windows_enc, safe_hash, code_hash, duress_hash,"
            " status, enrolled_on, start_on, end_on, created_at, updated_at,"
            " safe_kid, code_kid, duress_kid)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                pid,
                pseudonym,
                new.programme_id,
                new.channel,
                address_idx,
                address_enc,
                new.language,
                new.timezone,
                windows_enc,
                digest(new.safe_word),
                digest(new.code_word),
                digest(new.duress_word),
                new.status,
                new.enrolled_on.isoformat(),
                _d(new.start_on),
                _d(new.end_on),
                iso(now),
                iso(now),
                *((self.ring.active if w else None) for w in secret_words),
            ),
        )
        rows = await tx.execute_fetchall("SELECT * FROM participants WHERE id = ?", (pid,))
        return _participant(next(iter(rows)))

    async def set_address(
        self, tx: Transaction, participant_id: str, channel: str, address: str
    ) -> None:
        await tx.execute(
            "UPDATE participants SET address_idx = ?, address_enc = ? WHERE id = ?",
            (
                self.ring.blind_index(address_purpose(channel), address),
                self.ring.seal_text(address, address_aad(participant_id)),
                participant_id,
            ),
        )

    async def by_address(self, channel: str, address: str) -> Participant | None:
        indexes = self.ring.blind_indexes(address_purpose(channel), address)
        marks = ",".join("?" * len(indexes))
        row = await self.db.fetchone(
            f"SELECT * FROM participants WHERE address_idx IN ({marks}) AND channel = ?",
            (*indexes, channel),
        )
        return _participant(row) if row else None

    async def by_pseudonym(self, pseudonym: str, scope: Scope) -> Participant | None:
        """Her row, when her programme is inside ``scope``; another organisation's partner
        is None (and the attempt audited)."""
        key = pseudonym.strip().upper()
        where, params = scope.condition("g.organisation_id")
        row = await self.db.fetchone(
            "SELECT p.* FROM participants AS p JOIN programmes AS g ON g.id = p.programme_id"
            f" WHERE p.pseudonym = ? AND {where}",
            (key, *params),
        )
        if row is None and self.outside is not None:
            await self.outside.miss(scope, "participant", "participants", "pseudonym", key)
        return _participant(row) if row else None

    async def many(self, ids: list[str]) -> dict[str, Participant]:
        """Participants by id, in one query per 500 ids."""
        found: dict[str, Participant] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for row in await self.db.fetchall(
                f"SELECT * FROM participants WHERE id IN ({marks})", chunk
            ):
                found[row["id"]] = _participant(row)
        return found

    async def ids_in_programme(self, tx: Transaction, programme_id: int) -> list[str]:
        """Her id and every other partner's of one programme, read inside ``tx``."""
        rows = await tx.execute_fetchall(
            "SELECT id FROM participants WHERE programme_id = ?", (programme_id,)
        )
        return [str(r["id"]) for r in rows]

    async def count_in_programme(self, programme_id: int) -> int:
        row = await self.db.fetchone(
            "SELECT COUNT(*) FROM participants WHERE programme_id = ?", (programme_id,)
        )
        return int(row[0]) if row else 0

    async def in_programme(self, programme_id: int) -> list[Participant]:
        rows = await self.db.fetchall(
            "SELECT * FROM participants WHERE programme_id = ? ORDER BY pseudonym", (programme_id,)
        )
        return [_participant(r) for r in rows]

    async def get(self, participant_id: str) -> Participant:
        row = await self.db.fetchone("SELECT * FROM participants WHERE id = ?", (participant_id,))
        if row is None:
            raise LookupError(f"no participant {participant_id}")
        return _participant(row)

    async def set_status(
        self,
        tx: Transaction,
        participant_id: str,
        status: ParticipantStatus,
        reason: str | None,
        now: datetime,
    ) -> None:
        await tx.execute(
            "UPDATE participants SET status = ?, status_reason = ?, updated_at = ? WHERE id = ?",
            (status, reason, iso(now), participant_id),
        )

    async def set_windows(self, tx: Transaction, participant_id: str, windows: str) -> None:
        """Her safe contact windows, sealed; empty means the default window."""
        sealed = self.ring.seal_text(windows, windows_aad(participant_id)) if windows else None
        await tx.execute(
            "UPDATE participants SET windows_enc = ? WHERE id = ?", (sealed, participant_id)
        )

    async def set_timezone(self, tx: Transaction, participant_id: str, timezone: str) -> None:
        await tx.execute(
            "UPDATE participants SET timezone = ? WHERE id = ?", (timezone, participant_id)
        )

    async def set_programme_dates(
        self, tx: Transaction, participant_id: str, start_on: date | None, end_on: date | None
    ) -> None:
        """His programme's start and end as staff give them; None leaves a date as it is."""
        for column, day in (("start_on", start_on), ("end_on", end_on)):
            if day is not None:
                await tx.execute(
                    f"UPDATE participants SET {column} = ? WHERE id = ?",
                    (day.isoformat(), participant_id),
                )

    async def set_programme_end(
        self, tx: Transaction, participant_id: str, how: ProgrammeEnd, day: date
    ) -> None:
        """He dropped out or completed on ``day`` (T3 and T4 are planned from it)."""
        column = _END_COLUMNS[how]
        await tx.execute(
            f"UPDATE participants SET {column} = ? WHERE id = ?", (day.isoformat(), participant_id)
        )

    async def record_opt_in(self, tx: Transaction, participant_id: str, now: datetime) -> None:
        """She sent START after a STOP: recorded only; staff decide whether to resume."""
        await tx.execute(
            "UPDATE participants SET opted_in_again_at = ? WHERE id = ?", (iso(now), participant_id)
        )

    async def set_language(
        self, tx: Transaction, participant_id: str, language: str, now: datetime
    ) -> None:
        """Her language for every message rendered from now on (staff decide; see bot.cli.language)."""
        await tx.execute(
            "UPDATE participants SET language = ?, updated_at = ? WHERE id = ?",
            (language, iso(now), participant_id),
        )


def _d(value: date | None) -> str | None:
    return value.isoformat() if value else None
