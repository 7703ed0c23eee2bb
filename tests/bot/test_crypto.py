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


def test_retired_key_keeps_only_verify_only_subkeys(tmp_path: Path) -> None:
    from bot.crypto import write_keyring

    ring = KeyRing.generate().with_new_active()
    old_blob = KeyRing(dict(ring._masters), "k1").seal_text("x", "t:c:1")
    retired = ring.retiring("k1", "2999-01-01T00:00:00Z")
    assert retired.key_ids == ("k2",) and set(retired.verify_only) == {"k1"}
    with pytest.raises(KeyFileError):
        retired.open_text(old_blob, "t:c:1")  # the master is gone: nothing old decrypts
    assert ring.secret_word_keys()[1] in retired.secret_word_keys()  # digests still verify
    assert ring.blind_index("enrol-token", "t", "k1") in retired.blind_indexes("enrol-token", "t")
    path = tmp_path / "keys"
    write_keyring(path, retired)
    again = KeyRing.from_json(path.read_text(), "keys")
    assert again.verify_only == retired.verify_only
    expired = ring.retiring("k1", "2000-01-01T00:00:00Z")
    assert ring.blind_index("enrol-token", "t", "k1") not in expired.blind_indexes(
        "enrol-token", "t"
    )
    assert "lookup" not in expired.to_json()


def test_watched_ring_follows_its_key_file(tmp_path: Path) -> None:
    from bot.crypto import write_keyring

    path = tmp_path / "keys"
    ring, created = load_or_create_keyring(path)
    assert created and ring.active == "k1"
    other, _ = load_or_create_keyring(path)  # another process
    write_keyring(path, ring.with_new_active())
    blob = other.seal_text("x", "a")  # the other process seals with the new key at once
    assert other.sealed_with(blob) == "k2"
    assert ring.open_text(blob, "a") == "x"  # an unknown key id makes the ring re-read the file


def test_checked_once_checks_at_the_start_of_the_block_only(tmp_path: Path) -> None:
    from bot.crypto import write_keyring

    path = tmp_path / "keys"
    ring, _ = load_or_create_keyring(path)
    other, _ = load_or_create_keyring(path)  # another process
    with ring.checked_once():
        write_keyring(path, other.with_new_active())  # rotated mid-transaction
        assert ring.sealed_with(ring.seal_text("x", "a")) == "k1"  # this transaction's key
        blob = other.seal_text("y", "a")
        assert ring.open_text(blob, "a") == "y"  # an unknown key id still re-reads at once
    with ring.checked_once():
        assert ring.sealed_with(ring.seal_text("x", "a")) == "k2"


def test_a_changed_key_file_readable_by_others_is_refused(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.crypto import write_keyring

    path = tmp_path / "keys"
    ring, _ = load_or_create_keyring(path)
    write_keyring(path, ring.with_new_active())
    path.chmod(0o640)
    assert not ring.refresh()
    assert ring.active == "k1" and "readable by others" in caplog.text
    caplog.clear()
    assert not ring.refresh() and caplog.text == ""  # said once, not at every transaction
    path.chmod(0o600)
    assert ring.refresh() and ring.active == "k2"
