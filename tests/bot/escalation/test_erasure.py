"""Erasure forgets the staff alerts that named her (bot.datarights.core, issue 15 item 11).

The alerts are sealed to their staff queue, not to her row; erasure must open them with
the same associated data as sealing did, and fail rather than skip one it cannot open.
"""

from __future__ import annotations

import pytest

from bot.crypto import KeyFileError
from bot.datarights.actions import erase
from bot.runtime.app import App
from bot.store.outbox import open_payload

from .conftest import notifications, on_call_team, raise_urgent


async def readable_payloads(app: App) -> list[str]:
    """Every outbox payload, opened as the dispatcher would; raises if one does not open."""
    rows = await app.db.fetchall("SELECT lane, payload_enc FROM outbox")
    return [str(open_payload(app.ring, r["lane"], r["payload_enc"])) for r in rows]


async def test_after_erasure_no_alert_names_her(eapp: App) -> None:
    await on_call_team(eapp)
    code = await raise_urgent(eapp)
    assert ("ana", "telegram", 1, "sent") in await notifications(eapp, code)
    her = await eapp.service.participants.by_address("console", "console:alice")
    assert her is not None
    assert any(her.pseudonym in text for text in await readable_payloads(eapp))  # named before
    await erase(eapp.stores, eapp.service.delete_chat, her, "cli:worker")
    assert not any(her.pseudonym in text for text in await readable_payloads(eapp))
    escalations = await eapp.db.fetchall(
        "SELECT 1 FROM escalations WHERE participant_id = ?", (her.id,)
    )
    assert escalations == []  # kept for the record, no longer linked to her


async def test_an_alert_that_does_not_open_fails_the_erasure(eapp: App) -> None:
    await on_call_team(eapp)
    await raise_urgent(eapp)
    her = await eapp.service.participants.by_address("console", "console:alice")
    assert her is not None
    async with eapp.db.transaction() as tx:  # a payload moved to another queue no longer opens
        await tx.execute("UPDATE outbox SET lane = 'staff:elsewhere' WHERE staff_id IS NOT NULL")
    with pytest.raises(KeyFileError, match="erasure stopped, nothing changed"):
        await erase(eapp.stores, eapp.service.delete_chat, her, "cli:worker")
    row = await eapp.db.fetchone(
        "SELECT pseudonym, status FROM participants WHERE id = ?", (her.id,)
    )
    assert row is not None and tuple(row) == (her.pseudonym, her.status)  # rolled back, whole
