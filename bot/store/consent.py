"""Consent records: no contact is ever made with a woman whose consent was not recorded.

One row per participant: the date she consented, the version of the consent text she
was shown, and who recorded it (a staff name for now). At every timepoint she is asked
again (issue 20); her answer is kept on the timepoint row with the version it was given under.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from bot.clock import iso
from bot.store.db import Database, Transaction


@dataclass(frozen=True)
class Consent:
    version: str
    consented_on: date
    recorded_by: str

    def __post_init__(self) -> None:
        if not self.version.strip():
            raise ValueError("the consent text version is empty")
        if not self.recorded_by.strip():
            raise ValueError("who recorded the consent is empty")


async def record_consent(
    tx: Transaction, participant_id: str, consent: Consent, now: datetime
) -> None:
    await tx.execute(
        "INSERT INTO consents (participant_id, consent_version, consented_on, recorded_by,"
        " recorded_at) VALUES (?, ?, ?, ?, ?)",
        (
            participant_id,
            consent.version.strip(),
            consent.consented_on.isoformat(),
            consent.recorded_by.strip(),
            iso(now),
        ),
    )


#: Her answers to the consent question at a timepoint (``conversations.build.CONSENT_CHOICES``).
REAFFIRM_ANSWERS = ("yes", "not_this_time", "stop")


async def reaffirm(
    tx: Transaction, participant_id: str, timepoint: str, answer: str, now: datetime
) -> None:
    """Her answer at this timepoint, under the consent version on record for her."""
    if answer not in REAFFIRM_ANSWERS:
        raise ValueError(f"not an answer to the consent question: {answer!r}")
    await tx.execute(
        "UPDATE timepoints SET consent_answer = ?, consent_at = ?, consent_version ="
        " (SELECT consent_version FROM consents WHERE participant_id = timepoints.participant_id)"
        " WHERE participant_id = ? AND timepoint = ?",
        (answer, iso(now), participant_id, timepoint),
    )


async def consent_of(db: Database, participant_id: str) -> Consent | None:
    row = await db.fetchone(
        "SELECT consent_version, consented_on, recorded_by FROM consents WHERE participant_id = ?",
        (participant_id,),
    )
    if row is None:
        return None
    return Consent(row[0], date.fromisoformat(row[1]), row[2])


async def consented_among(tx: Transaction, participant_ids: list[str]) -> set[str]:
    """Which of these participants have a consent record (one query per 500, for waves)."""
    found: set[str] = set()
    unique = list(dict.fromkeys(participant_ids))
    for start in range(0, len(unique), 500):
        chunk = unique[start : start + 500]
        marks = ",".join("?" * len(chunk))
        rows = await tx.execute_fetchall(
            f"SELECT participant_id FROM consents WHERE participant_id IN ({marks})", chunk
        )
        found.update(str(r[0]) for r in rows)
    return found
