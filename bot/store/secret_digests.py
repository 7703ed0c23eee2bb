"""Her secret-word digests (safe, code, duress) and the key id each was made with.

The clear words are never stored, so a digest is re-made only when she types the word;
``<word>_kid`` says which key's subkey checks it until then (see bot/datarights/secret_words).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.store.db import Database, Row, Transaction

#: Her three secret words; each has a ``<word>_hash`` and a ``<word>_kid`` column.
WORDS = ("safe", "code", "duress")


@dataclass(frozen=True)
class StoredDigest:
    word: str
    digest: bytes
    key_id: str | None
    """None for digests made before key ids were kept."""


def stored_digests(participant_row: Row) -> list[StoredDigest]:
    """The digests her row holds, word by word."""
    return [
        StoredDigest(word, bytes(participant_row[f"{word}_hash"]), participant_row[f"{word}_kid"])
        for word in WORDS
        if participant_row[f"{word}_hash"] is not None
    ]


async def replace_digest(
    tx: Transaction, participant_id: str, word: str, digest: bytes, key_id: str
) -> None:
    await tx.execute(
        f"UPDATE participants SET {word}_hash = ?, {word}_kid = ? WHERE id = ?",
        (digest, key_id, participant_id),
    )


async def digests_per_key(db: Database) -> dict[str, int]:
    """Digests per key id ("unknown" for digests made before key ids were kept)."""
    counts: dict[str, int] = {}
    for word in WORDS:
        rows = await db.fetchall(
            f"SELECT COALESCE({word}_kid, 'unknown'), COUNT(*) FROM participants"
            f" WHERE {word}_hash IS NOT NULL GROUP BY 1"
        )
        for kid, n in rows:
            counts[kid] = counts.get(kid, 0) + int(n)
    return counts


async def key_ids_in_use(tx: Transaction) -> set[str]:
    """Key ids some digest still needs ("unknown" among them if any predates key ids)."""
    kids: set[str] = set()
    for word in WORDS:
        rows = await (
            await tx.execute(
                f"SELECT DISTINCT COALESCE({word}_kid, 'unknown') FROM participants"
                f" WHERE {word}_hash IS NOT NULL"
            )
        ).fetchall()
        kids.update(r[0] for r in rows)
    return kids


async def assign_unknown_key_id(db: Database, key_id: str) -> None:
    """Digests without a key id are marked as made with ``key_id``, one word per transaction."""
    for word in WORDS:
        async with db.transaction() as tx:
            await tx.execute(
                f"UPDATE participants SET {word}_kid = ? WHERE {word}_hash IS NOT NULL"
                f" AND {word}_kid IS NULL",
                (key_id,),
            )
