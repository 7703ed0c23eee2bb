"""Updates -> Inbound, in-process: presses, multi-choice ticks, staff buttons, groups, failures."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from telegram import Update

from bot.channels import telegram_keyboards as kb
from bot.channels.base import Button, Inbound, NotStored, Rendered
from bot.channels.telegram import TelegramChannel
from bot.channels.telegram_updates import TelegramUpdates
from bot.config import ConfigError, TelegramConfig
from tests.fakes.telegram_api import FakeTelegram

CHAT = 6150615061
MULTI = Rendered(
    "Which?",
    (Button("Afraid", "impact|afraid"), Button("Anxious", "impact|anxious"),
     Button("None", "impact|none"), Button("Done", "impact||done")),
    multi=True,
)  # fmt: skip


class Recorder:
    def __init__(self) -> None:
        self.got: list[Inbound] = []
        self.fail = 0
        self.not_stored = 0
        self.calls = 0

    async def __call__(self, msg: Inbound) -> None:
        self.calls += 1
        if self.not_stored:
            self.not_stored -= 1
            raise NotStored("database is locked")
        if self.fail:
            self.fail -= 1
            raise RuntimeError("a bug")
        self.got.append(msg)


async def no_count(name: str) -> None:
    return None


@pytest.fixture(scope="module")
def server() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        yield fake


@pytest.fixture
def fake(server: FakeTelegram) -> FakeTelegram:
    server.reset()
    server.open_chat(CHAT)
    return server


@pytest.fixture
async def channel(fake: FakeTelegram) -> AsyncIterator[TelegramChannel]:
    made = TelegramChannel(TelegramConfig(token=fake.token, api_base_url=fake.base_url))
    yield made
    await made.close()


@pytest.fixture
def handler() -> Recorder:
    return Recorder()


@pytest.fixture
def updates(channel: TelegramChannel, handler: Recorder) -> TelegramUpdates:
    return TelegramUpdates(channel.config, channel, handler, count=no_count)


async def feed(updates: TelegramUpdates, data: dict[str, Any]) -> bool:
    ok = await updates.process(Update.de_json(data, await updates.channel.bot()))
    await updates.settle()
    return ok


def markup_of(fake: FakeTelegram, message_id: int) -> list[str]:
    message = {m["message_id"]: m for m in fake.visible(CHAT)}[message_id]
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return [f"{b['text']}={b['callback_data']}" for row in rows for b in row]


async def test_text_and_start_become_inbound(
    updates: TelegramUpdates, handler: Recorder, fake: FakeTelegram
) -> None:
    plain = fake.make_message_update(CHAT, "hello", language_code="de")
    start = fake.make_message_update(CHAT, "/start tok_EN-123")
    assert await feed(updates, plain) and await feed(updates, start)
    first, second = handler.got
    assert first == Inbound(
        "telegram", str(CHAT), "hello", f"update:{plain['update_id']}",
        str(plain["message"]["message_id"]),
        extra={"user_id": str(CHAT), "language_code": "de"},
    )  # fmt: skip
    assert second.extra["start_token"] == "tok_EN-123"
    assert "start_token" not in first.extra


async def test_group_messages_are_ignored(
    updates: TelegramUpdates, handler: Recorder, fake: FakeTelegram
) -> None:
    assert await feed(updates, fake.make_message_update(-100200300, "hi all", user_id=CHAT))
    assert handler.got == []


async def test_a_press_is_answered_its_keyboard_removed_and_handed_on(
    updates: TelegramUpdates, handler: Recorder, fake: FakeTelegram, channel: TelegramChannel
) -> None:
    ref = int(await channel.send(str(CHAT), Rendered("Safe?", (Button("Yes", "safe|yes"),))) or 0)
    press = fake.make_callback_update(CHAT, ref, "safe|yes")
    assert await feed(updates, press)
    query = press["callback_query"]
    assert handler.got == [
        Inbound("telegram", str(CHAT), "", f"callback:{query['id']}", None, ("yes",), "safe",
                {"callback_data": "safe|yes", "user_id": str(CHAT)})
    ]  # fmt: skip
    assert [c.params["callback_query_id"] for c in fake.calls_to("answerCallbackQuery")] == [
        query["id"]
    ]
    assert markup_of(fake, ref) == []
    assert await feed(updates, press)  # redelivered: nothing more
    assert len(handler.got) == 1 and len(fake.calls_to("editMessageReplyMarkup")) == 1


async def test_staff_buttons_pass_through_untouched(
    updates: TelegramUpdates, handler: Recorder, fake: FakeTelegram, channel: TelegramChannel
) -> None:
    alert = Rendered("E-7QX3K", (Button("Acknowledge", "esc:ack:E-7QX3K"),))
    ref = int(await channel.send(str(CHAT), alert) or 0)
    assert await feed(updates, fake.make_callback_update(CHAT, ref, "esc:ack:E-7QX3K"))
    (got,) = handler.got
    assert (got.choices, got.for_item, got.text) == (None, None, "")
    assert got.extra == {"callback_data": "esc:ack:E-7QX3K", "user_id": str(CHAT)}
    assert markup_of(fake, ref) == ["Acknowledge=esc:ack:E-7QX3K"]  # the staff router's job


async def test_multi_choice_ticks_live_in_the_keyboard(
    updates: TelegramUpdates, handler: Recorder, fake: FakeTelegram, channel: TelegramChannel
) -> None:
    ref = int(await channel.send(str(CHAT), MULTI) or 0)
    afraid = fake.make_callback_update(CHAT, ref, "impact|afraid|+")
    assert await feed(updates, afraid)
    assert await feed(updates, fake.make_callback_update(CHAT, ref, "impact|none|+"))
    assert await feed(updates, fake.make_callback_update(CHAT, ref, "impact|none|-"))
    assert handler.got == []  # ticks are not answers
    assert markup_of(fake, ref) == [
        "✓ Afraid=impact|afraid|-", "Anxious=impact|anxious|+", "None=impact|none|+",
        "Done=impact||done",
    ]  # fmt: skip

    edits = len(fake.calls_to("editMessageReplyMarkup"))
    restarted = TelegramUpdates(updates.config, channel, handler, count=no_count)
    assert await feed(restarted, afraid)  # redelivered after a restart: asks for "on" again
    assert markup_of(fake, ref)[0] == "✓ Afraid=impact|afraid|-"
    assert len(fake.calls_to("editMessageReplyMarkup")) <= edits + 1

    assert await feed(updates, fake.make_callback_update(CHAT, ref, "impact||done"))
    (got,) = handler.got
    assert (got.choices, got.for_item) == (("afraid",), "impact")
    assert markup_of(fake, ref) == []


async def test_a_failing_handler_is_reported_and_the_retry_goes_through(
    updates: TelegramUpdates, handler: Recorder, fake: FakeTelegram, channel: TelegramChannel
) -> None:
    ref = int(await channel.send(str(CHAT), Rendered("Safe?", (Button("Yes", "safe|yes"),))) or 0)
    press = fake.make_callback_update(CHAT, ref, "safe|yes")
    handler.fail = 1
    assert await feed(updates, press) is False
    assert await feed(updates, press) is True
    assert [m.choices for m in handler.got] == [("yes",)]


async def test_an_update_that_could_not_be_stored_is_retried_never_skipped(
    updates: TelegramUpdates, handler: Recorder, fake: FakeTelegram
) -> None:
    updates.busy_retry_seconds = 0.005
    update = Update.de_json(fake.make_message_update(CHAT, "7"), await channel_bot(updates))
    handler.not_stored = 5  # more than MAX_TRIES: a locked database is waited out
    assert await updates._process_with_retries(update) is True
    assert handler.calls == 6 and [m.text for m in handler.got] == ["7"]

    handler.fail = 5  # a failing handler (a bug) is still skipped after MAX_TRIES
    handler.calls = 0
    assert await updates._process_with_retries(update) is True
    assert handler.calls == 3 and len(handler.got) == 1


async def test_an_update_not_stored_while_stopping_is_left_unconfirmed(
    updates: TelegramUpdates, handler: Recorder, fake: FakeTelegram
) -> None:
    update = Update.de_json(fake.make_message_update(CHAT, "7"), await channel_bot(updates))
    handler.not_stored = 1
    updates._stopping.set()
    assert await updates._process_with_retries(update) is False  # Telegram sends it again
    assert handler.got == []


async def test_a_malformed_update_from_get_updates_is_dropped_and_polling_goes_on(
    channel: TelegramChannel, handler: Recorder, fake: FakeTelegram
) -> None:
    """Found by fuzzing: PTB raised TypeError for the whole batch and the poll task died."""
    bad = fake.make_message_update(CHAT, "lost")
    del bad["message"]["chat"]["type"]  # PTB's de_json cannot build the Chat
    fake.queue_update(bad)
    fake.user_sends(CHAT, "after")
    polling = TelegramUpdates(channel.config, channel, handler, count=no_count, poll_timeout=1)
    await polling.start()
    for _ in range(250):
        if handler.got:
            break
        await asyncio.sleep(0.02)
    await polling.stop()
    assert [m.text for m in handler.got] == ["after"]
    assert polling.offset is not None and polling.offset > bad["update_id"] + 1


async def test_an_unparseable_update_without_an_id_backs_off_instead_of_spinning(
    channel: TelegramChannel, handler: Recorder, fake: FakeTelegram
) -> None:
    """It cannot be skipped (no offset to move past), so it waits for the backoff."""
    bad = fake.make_message_update(CHAT, "lost")
    del bad["message"]["chat"]["type"]  # PTB's de_json cannot build the Chat
    bad["update_id"] = 7.5  # not an int: ``offset`` cannot move past it
    fake.queue_update(bad)
    polling = TelegramUpdates(channel.config, channel, handler, count=no_count, poll_timeout=1)
    await polling.start()
    await asyncio.sleep(1.5)
    await polling.stop()
    assert handler.got == []
    assert len(fake.calls_to("getUpdates")) <= 8  # a tight loop makes hundreds


async def test_updates_missing_required_fields_are_dropped_with_a_warning(
    updates: TelegramUpdates, handler: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    """Found by fuzzing: de_json accepts these, and handling them raised (a 500 per delivery)."""
    chat = {"id": CHAT, "type": "private"}
    broken = [
        {"update_id": 1, "message": {"message_id": 1, "date": 0}},  # no chat
        {"update_id": 2, "message": {"message_id": 1, "date": 0, "chat": chat, "text": 5}},
        {"update_id": "x", "message": {"message_id": 1, "date": 0, "chat": chat, "text": "hi"}},
        {"update_id": 4, "callback_query": {"id": "q", "chat_instance": "c", "data": "a|b",
                                            "message": {"message_id": 1, "date": 0, "chat": chat}}},
    ]  # fmt: skip
    for data in broken:
        assert await feed(updates, data) is True  # confirmed: delivering it again cannot help
    assert handler.calls == 0
    assert caplog.text.count("update dropped") == len(broken)
    assert "Traceback" not in caplog.text


async def channel_bot(updates: TelegramUpdates) -> Any:
    return await updates.channel.bot()


def test_keyboard_data_parsing() -> None:
    assert kb.parse("fear|7") == kb.Press("choice", "fear", "7")
    assert kb.parse("impact|afraid|+") == kb.Press("toggle", "impact", "afraid", select=True)
    assert kb.parse("impact|afraid|-") == kb.Press("toggle", "impact", "afraid", select=False)
    assert kb.parse("impact||done") == kb.Press("done", "impact")
    for other in ("esc:ack:E-1", "", "|", "a|", "|b", "a|b|c", "a|b|c|d"):
        assert kb.parse(other).kind == "other", other


def test_webhook_mode_needs_a_secret_and_an_https_url(channel: TelegramChannel) -> None:
    base = channel.config
    for config in (
        TelegramConfig(token=base.token, mode="webhook", webhook_url="https://x.example/h"),
        TelegramConfig(
            token=base.token, mode="webhook", webhook_url="http://x.example/h", webhook_secret="s"
        ),
    ):
        with pytest.raises(ConfigError):
            TelegramUpdates(config, channel, Recorder(), count=no_count)
