"""Identifiers staff can read aloud without confusion: P-7QX3K, E-4KD9T."""

from __future__ import annotations

import secrets
import uuid

#: No 0/O, 1/I/L, U: easy to read out on a phone call.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"


def short_code(prefix: str, length: int = 5) -> str:
    return prefix + "-" + "".join(secrets.choice(ALPHABET) for _ in range(length))


def new_pseudonym() -> str:
    return short_code("P")


def new_escalation_code() -> str:
    return short_code("E")


def new_row_id() -> str:
    """Random primary key; also the row part of an encrypted field's associated data."""
    return uuid.uuid4().hex
