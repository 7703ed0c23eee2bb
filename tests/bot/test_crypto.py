"""Field encryption, blind indexes and the key file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag

from bot.crypto import KeyFileError, KeyRing, load_or_create_keyring


def test_seal_open_round_trip_and_binding() -> None:
    ring = KeyRing.generate()
    blob = ring.seal_text("+447700900123", "participants:address:p1")
    assert b"447700900123" not in blob
    assert ring.open_text(blob, "participants:address:p1") == "+447700900123"
    with pytest.raises(InvalidTag):
        ring.open_text(blob, "participants:address:p2")  # moved to another row: refused


def test_same_value_seals_differently() -> None:
    ring = KeyRing.generate()
    assert ring.seal_text("x", "a") != ring.seal_text("x", "a")


def test_blind_index_is_stable_and_keyed() -> None:
    ring, other = KeyRing.generate(), KeyRing.generate()
    assert ring.blind_index("address:sms", "+447700900123") == ring.blind_index(
        "address:sms", "+447700900123"
    )
    assert ring.blind_index("address:sms", "+447700900123") != ring.blind_index(
        "address:telegram", "+447700900123"
    )
    assert ring.blind_index("a", "v") != other.blind_index("a", "v")


def test_rotation_ring_opens_old_fields_and_seals_with_new() -> None:
    old = KeyRing.generate("k1")
    blob = old.seal_text("secret", "t:c:r")
    masters = {**old._masters, "k2": os.urandom(32)}
    ring = KeyRing(masters, "k2")
    assert ring.open_text(blob, "t:c:r") == "secret"
    assert ring.sealed_with(ring.seal_text("x", "a")) == "k2"
    assert old.blind_index("p", "v") in ring.blind_indexes("p", "v")


def test_key_file_created_with_0600(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FOLLOWUP_KEYS", raising=False)
    path = tmp_path / "sub" / "keys.json"
    ring, created = load_or_create_keyring(path)
    assert created
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again, created_again = load_or_create_keyring(path)
    assert not created_again
    assert again.open_text(ring.seal_text("v", "a"), "a") == "v"


def test_key_file_readable_by_others_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FOLLOWUP_KEYS", raising=False)
    path = tmp_path / "keys.json"
    load_or_create_keyring(path)
    path.chmod(0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        load_or_create_keyring(path)


def test_broken_key_file_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FOLLOWUP_KEYS", raising=False)
    path = tmp_path / "keys.json"
    path.write_text("{not json")
    path.chmod(0o600)
    with pytest.raises(KeyFileError, match=str(path)):
        load_or_create_keyring(path)
