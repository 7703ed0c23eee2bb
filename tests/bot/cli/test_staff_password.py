"""``followup staff set-password``: argon2 hash stored, short passwords and unknown names refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from .conftest import Invoke, ok, one_line_error


def test_set_password_stores_an_argon2_hash_only(cli: Invoke, tmp_path: Path) -> None:
    ok(cli("staff", "add", "--name", "ana", "--role", "wss"))
    out = ok(cli("staff", "set-password", "ana", "--password", "a long passphrase"))
    assert "password set for ana" in out and "TOTP" in out
    conn = sqlite3.connect(tmp_path / "f.db")
    try:
        (stored,) = conn.execute("SELECT password_hash FROM staff_logins").fetchone()
        (action,) = conn.execute("SELECT action FROM audit_log WHERE subject = 'ana' "
                                 "ORDER BY id DESC").fetchone()  # fmt: skip
    finally:
        conn.close()
    assert stored.startswith("$argon2id$") and "a long passphrase" not in stored
    assert action == "staff_password_set"


def test_short_password_and_unknown_name_are_one_line_errors(cli: Invoke) -> None:
    ok(cli("staff", "add", "--name", "ana", "--role", "wss"))
    one_line_error(cli("staff", "set-password", "ana", "--password", "short"), "12 characters")
    one_line_error(cli("staff", "set-password", "zed", "--password", "a long passphrase"), "zed")
