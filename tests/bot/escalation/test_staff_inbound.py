"""Staff act from Telegram buttons and SMS replies; strangers are ignored and audited."""

from __future__ import annotations

from bot.channels.base import Inbound
from bot.channels.console import ConsoleChannel
from bot.runtime.app import App

from .conftest import (
    ANA_PHONE,
    ANA_TG,
    RecordingChannel,
    add_staff,
    notifications,
    on_call_team,
    raise_urgent,
)


def press(user_id: str, data: str, update: str = "u1") -> Inbound:
    return Inbound(
        "telegram",
        user_id,
        "",
        provider_id=update,
        extra={"callback_data": data, "user_id": user_id},
    )


async def state_of(app: App, code: str) -> tuple[str, str | None, str | None]:
    row = await app.db.fetchone(
        "SELECT state, acknowledged_by, resolved_by FROM escalations WHERE code = ?", (code,)
    )
    assert row is not None
    return row[0], row[1], row[2]


async def audit_actions(app: App, code: str) -> list[tuple[str, str]]:
    rows = await app.db.fetchall(
        "SELECT actor, action FROM audit_log WHERE subject = ? ORDER BY id", (code,)
    )
    return [(r[0], r[1]) for r in rows]


async def test_acknowledge_button_from_staff_acks_and_confirms(
    eapp: App, telegram: RecordingChannel
) -> None:
    await on_call_team(eapp)
    code = await raise_urgent(eapp)
    assert await eapp.handle_inbound(press(ANA_TG, f"esc:ack:{code}")) is None
    await eapp.dispatcher.drain_all()
    assert await state_of(eapp, code) == ("acknowledged", "ana", None)
    assert telegram.texts(ANA_TG)[-1] == f"{code} acknowledged by ana."
    await eapp.handle_inbound(press(ANA_TG, f"esc:resolve:{code}", "u2"))
    await eapp.dispatcher.drain_all()
    assert await state_of(eapp, code) == ("resolved", "ana", "ana")
    assert telegram.texts(ANA_TG)[-1] == f"{code} resolved by ana."
    await eapp.handle_inbound(press(ANA_TG, f"esc:resolve:{code}", "u2"))  # redelivered update
    await eapp.dispatcher.drain_all()
    assert telegram.texts(ANA_TG)[-1] == f"{code} resolved by ana."
    assert ("ana (telegram)", "escalation_acknowledged") in await audit_actions(eapp, code)


async def test_button_pressed_by_a_stranger_is_ignored_and_audited(
    eapp: App, telegram: RecordingChannel, console: ConsoleChannel
) -> None:
    await on_call_team(eapp)
    code = await raise_urgent(eapp)
    sent = len(telegram.sent), len(console.sent)
    await eapp.handle_inbound(press("999999", f"esc:ack:{code}"))
    await eapp.dispatcher.drain_all()
    assert await state_of(eapp, code) == ("open", None, None)
    assert (len(telegram.sent), len(console.sent)) == sent  # no reply to anyone
    assert ("unknown (telegram)", "escalation_action_refused") in await audit_actions(eapp, code)
    row = await eapp.db.fetchone(
        "SELECT detail FROM audit_log WHERE action = 'escalation_action_refused'"
    )
    assert row is not None and "999999" not in row[0]


async def test_programme_staff_may_not_act(eapp: App) -> None:
    await on_call_team(eapp)
    await add_staff(eapp, "res", role="programme", telegram_user_id="700009")
    code = await raise_urgent(eapp)
    await eapp.handle_inbound(press("700009", f"esc:ack:{code}"))
    assert await state_of(eapp, code) == ("open", None, None)
    assert ("unknown (telegram)", "escalation_action_refused") in await audit_actions(eapp, code)


async def test_sms_ack_and_done_from_the_on_call_phone(eapp: App, sms: RecordingChannel) -> None:
    await on_call_team(eapp)
    code = await raise_urgent(eapp)
    await eapp.handle_inbound(Inbound("sms", ANA_PHONE, f" ack {code.lower()} "))
    await eapp.dispatcher.drain_all()
    assert await state_of(eapp, code) == ("acknowledged", "ana", None)
    assert sms.texts(ANA_PHONE)[-1] == f"{code} acknowledged by ana."
    rows = await notifications(eapp, code)
    assert {r[3] for r in rows} == {"sent"}
    await eapp.handle_inbound(Inbound("sms", ANA_PHONE, f"DONE {code}"))
    await eapp.dispatcher.drain_all()
    assert await state_of(eapp, code) == ("resolved", "ana", "ana")
    await eapp.handle_inbound(Inbound("sms", ANA_PHONE, "ACK E-22222"))
    await eapp.dispatcher.drain_all()
    assert sms.texts(ANA_PHONE)[-1] == "No open escalation E-22222."


async def test_sms_ack_from_any_other_number_falls_through_to_her_path(
    eapp: App, sms: RecordingChannel
) -> None:
    await on_call_team(eapp)
    code = await raise_urgent(eapp)
    sent = len(sms.sent)
    await eapp.handle_inbound(Inbound("sms", "+447911000000", f"ACK {code}"))
    await eapp.dispatcher.drain_all()
    assert await state_of(eapp, code) == ("open", None, None)
    assert len(sms.sent) == sent
    row = await eapp.db.fetchone("SELECT value FROM counters WHERE name = 'unknown_sender:sms'")
    assert row is not None and row[0] == 1  # the participant path saw an unknown sender


async def test_other_texts_from_staff_phone_go_to_her_path(eapp: App) -> None:
    await on_call_team(eapp)
    await eapp.handle_inbound(Inbound("sms", ANA_PHONE, "hello"))
    row = await eapp.db.fetchone("SELECT value FROM counters WHERE name = 'unknown_sender:sms'")
    assert row is not None and row[0] == 1


async def test_her_answers_are_unaffected_by_the_staff_router(
    eapp: App, console: ConsoleChannel
) -> None:
    """'ACK E-XXXXX' from her own address is just an answer attempt on her side."""
    await on_call_team(eapp)
    code = await raise_urgent(eapp)
    await eapp.handle_inbound(Inbound("console", "console:alice", f"ACK {code}"))
    assert await state_of(eapp, code) == ("open", None, None)
