"""Key rotation: interrupted half-way, resumed, service working meanwhile, old key gone."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from pathlib import Path

import pytest

from bot.channels.console import ConsoleChannel
from bot.clock import ManualClock, iso
from bot.config import Config
from bot.crypto import KeyRing
from bot.datarights.rotation import RotationInterrupted, rotate
from bot.enrolment.tokens import new_token, redeem_token, store_token
from bot.runtime.app import App, open_app
from bot.store.rotation import fields_per_key, pending_counts
from bot.store.sealed_columns import INDEXED, SEALED

from ..conftest import add_programme
from .support_datarights import answered_t0, say


def key_path(config: Config) -> Path:
    return Path(config.security.key_file)


async def populate(app: App) -> str:
    """Three women (one withdrew, answers kept), a staff row, an unused enrolment link."""
    await add_programme(app, "demo", on_withdrawal="keep_anonymous")
    await answered_t0(app, "console:anna", code_word="bluebird")
    await answered_t0(app, "console:bea")
    await answered_t0(app, "console:cleo")
    await say(app, "withdraw", "console:cleo")
    p = await app.service.participants.by_address("console", "console:anna")
    assert p is not None
    token = new_token()
    now = app.service.clock.now()
    async with app.db.transaction() as tx:
        await store_token(tx, app.ring, p.id, token, now, timedelta(days=14))
        cur = await tx.execute(
            "INSERT INTO staff (name, role, telegram_idx, telegram_enc, created_at)"
            " VALUES ('wss', 'wss', x'00', x'00', ?)",
            (iso(now),),
        )
        sid = cur.lastrowid
        await tx.execute(
            "UPDATE staff SET telegram_idx = ?, telegram_enc = ? WHERE id = ?",
            (
                app.ring.blind_index("staff:telegram", "777"),
                app.ring.seal_text("777", f"staff:telegram:{sid}"),
                sid,
            ),
        )
    return token


def only(path: Path, kid: str) -> KeyRing:
    """A ring holding nothing but ``kid``'s master: proves no other key is needed."""
    data = json.loads(path.read_text())
    return KeyRing({kid: base64.b64decode(data["keys"][kid])}, kid)


async def read_everything(app: App, ring: KeyRing) -> int:
    opened = 0
    for s in SEALED:
        for row in await app.db.fetchall(f"SELECT * FROM {s.table} WHERE {s.column} IS NOT NULL"):
            ring.open(bytes(row[s.column]), s.aad(row))
            opened += 1
    for ix in INDEXED:
        src = ix.source
        for row in await app.db.fetchall(
            f"SELECT * FROM {ix.table} WHERE {src.column} IS NOT NULL"
        ):
            value = ring.open_text(bytes(row[src.column]), src.aad(row))
            assert bytes(row[ix.column]) == ring.blind_index(ix.purpose(row), value)
    return opened


def test_every_sealed_column_is_registered(tmp_path: Path) -> None:
    import sqlite3

    from bot.store.schema import MIGRATIONS

    conn = sqlite3.connect(tmp_path / "schema.db")
    for script in MIGRATIONS:
        conn.executescript(script)
    found = set()
    for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
        for column in conn.execute(f"PRAGMA table_info({table})"):
            if column[1].endswith("_enc"):
                found.add(f"{table}.{column[1]}")
    assert found == {f"{s.table}.{s.column}" for s in SEALED}


async def test_rotation_interrupted_and_resumed(
    app: App, config: Config, clock: ManualClock, console: ConsoleChannel
) -> None:
    await populate(app)
    path = key_path(config)
    total = sum(sum(c.values()) for c in (await fields_per_key(app.db, app.ring)).values())
    assert total > 40

    cli = await open_app(config, {}, clock=clock)  # `followup keys rotate` in another process
    try:

        async def stop_after_three(batch: int) -> None:
            if batch == 3:
                raise RotationInterrupted("test stop")

        with pytest.raises(RotationInterrupted):
            await rotate(cli.db, cli.ring, path, clock.now(), batch_size=5,
                         after_batch=stop_after_three)  # fmt: skip
        assert cli.ring.active == "k2" and set(cli.ring.key_ids) == {"k1", "k2"}
        per_key = await fields_per_key(app.db, cli.ring)
        assert sum(c.get("k2", 0) for c in per_key.values()) > 0  # three batches done
        assert sum(c.get("k1", 0) for c in per_key.values()) > 0

        # The service, meanwhile, follows the key file: looks up under both keys, seals with k2.
        report = await say(app, "hello", "console:bea")
        assert report is not None
        assert app.ring.active == "k2"
        await app.service.begin_contact(report.participant.id, "T1")
        await app.dispatcher.drain_all()

        seen: list[int] = []

        async def during(batch: int) -> None:
            seen.append(batch)
            if batch == 2:  # she answers while the rotation runs
                await say(app, "yes", "console:bea")

        result = await rotate(cli.db, cli.ring, path, clock.now(), batch_size=5, after_batch=during)
        assert result.retired == ("k1",) and result.new_key == "k2"
        assert seen
    finally:
        await cli.close()

    data = json.loads(path.read_text())
    assert set(data["keys"]) == {"k2"} and data["active"] == "k2"
    assert set(data["verify_only"]) == {"k1"}  # digests and links only; never the master
    assert "k1" not in data["keys"]

    bare = only(path, "k2")
    assert await read_everything(app, bare) > total  # + what the service wrote meanwhile
    assert await pending_counts(app.db, bare) == dict.fromkeys(
        await pending_counts(app.db, bare), 0
    )
    # Look-ups by address work with the new key alone.
    app.ring._load(dict(bare._masters), "k2", {})  # the service drops the verify-only part too
    for who in ("console:anna", "console:bea", "console:cleo"):
        assert await app.service.participants.by_address("console", who) is not None


async def test_secret_words_and_links_survive_rotation(
    app: App, config: Config, clock: ManualClock, console: ConsoleChannel
) -> None:
    token = await populate(app)
    await rotate(app.db, app.ring, key_path(config), clock.now(), batch_size=50)
    anna = await app.service.participants.by_address("console", "console:anna")
    assert anna is not None and anna.row["code_kid"] == "k1" and anna.row["safe_kid"] == "k1"
    async with app.db.transaction() as tx:  # her link still works (verify-only look-up key)
        assert await redeem_token(tx, app.ring, token, clock.now()) == anna.id
    await app.service.begin_contact(anna.id, "T1")
    await app.dispatcher.drain_all()
    await say(app, "yes", "console:anna")
    report = await say(app, "bluebird", "console:anna")  # her code word, hashed under k1
    assert report is not None and report.state.phase == "consent"  # asked after the code word
    anna = await app.service.participants.get(anna.id)
    assert anna.row["code_kid"] == "k2"  # re-hashed under the active key as she typed it
    assert anna.row["safe_kid"] == "k1"  # not typed yet: still needs k1's verify-only subkey
    report = await say(app, "PINEAPPLE", "console:anna")
    assert report is not None and report.state.outcome == "safe_word"
    anna = await app.service.participants.get(anna.id)
    assert anna.row["safe_kid"] == "k2"


def test_every_recomputable_blind_index_is_registered(tmp_path: Path) -> None:
    """An ``_idx`` column left out of INDEXED would stop matching after a rotation."""
    import sqlite3

    from bot.store.schema import MIGRATIONS
    from bot.store.sealed_columns import INDEXED

    conn = sqlite3.connect(tmp_path / "schema.db")
    for script in MIGRATIONS:
        conn.executescript(script)
    found = {
        f"{table}.{column[1]}"
        for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        for column in conn.execute(f"PRAGMA table_info({table})")
        if column[1].endswith("_idx")
    }
    # Enrolment tokens are never stored in clear: their index stays verify-only until expiry.
    assert found - {"enrol_tokens.token_idx"} == {f"{i.table}.{i.column}" for i in INDEXED}
