"""Tests of the fake Bot API, driven by the real python-telegram-bot client.

If PTB cannot parse what the fake answers, or maps its errors differently than it would map
Telegram's, end-to-end tests built on the fake would prove nothing; these tests guard that.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import threading
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters
from telegram.request import HTTPXRequest

from .telegram_api import FakeTelegram

CHAT = 4242


@pytest.fixture(autouse=True)
def _timedelta_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opt in to PTB's future RetryAfter.retry_after type (avoids its deprecation warning)."""
    monkeypatch.setenv("PTB_TIMEDELTA", "1")


@pytest.fixture(scope="module")
def server() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        yield fake


@pytest.fixture
def fake(server: FakeTelegram) -> FakeTelegram:
    server.reset()
    return server


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(fake.token, base_url=fake.base_url) as client:
        yield client


def keyboard(*datas: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(d.title(), callback_data=d) for d in datas]])


async def test_get_me(bot: Bot, fake: FakeTelegram) -> None:
    me = await bot.get_me()
    assert (me.id, me.is_bot, me.username) == (123456, True, "followup_test_bot")
    assert me.can_join_groups is True
    assert [c.status for c in fake.calls_to("getMe")] == [200, 200]  # initialize + explicit


async def test_send_message_records_protect_content_and_keyboard(
    bot: Bot, fake: FakeTelegram
) -> None:
    fake.user_sends(CHAT, "/start")
    sent = await bot.send_message(
        CHAT,
        "<b>How safe</b> do you feel?",
        parse_mode="HTML",
        protect_content=True,
        disable_notification=True,
        reply_markup=keyboard("yes", "no"),
    )
    assert sent.text == "How safe do you feel?"
    assert sent.from_user is not None and sent.from_user.is_bot
    assert sent.has_protected_content is True
    assert sent.reply_markup == keyboard("yes", "no")
    assert sent.message_id == 2  # the user's /start was message 1 of this chat

    params = fake.calls_to("sendMessage")[-1].params
    assert params["chat_id"] == CHAT
    assert params["protect_content"] is True
    assert params["disable_notification"] is True
    assert params["parse_mode"] == "HTML"
    assert params["reply_markup"] == {
        "inline_keyboard": [
            [{"text": "Yes", "callback_data": "yes"}, {"text": "No", "callback_data": "no"}]
        ]
    }
    assert [m["text"] for m in fake.visible(CHAT)] == ["/start", "How safe do you feel?"]
    assert fake.sent_texts(CHAT) == ["How safe do you feel?"]


async def test_get_updates_returns_message_and_callback_query(bot: Bot, fake: FakeTelegram) -> None:
    first = fake.user_sends(CHAT, "/start abc", first_name="Ana", language_code="de")
    question = await bot.send_message(CHAT, "Ready?", reply_markup=keyboard("go"))
    second = fake.user_presses(CHAT, question.message_id, "go")

    updates = await bot.get_updates(timeout=0)
    assert [u.update_id for u in updates] == [first, second]
    assert all(isinstance(u, Update) for u in updates)
    message = updates[0].message
    assert message is not None and message.text == "/start abc"
    assert message.from_user is not None and message.from_user.language_code == "de"
    assert message.chat.type == "private" and message.chat.id == CHAT
    assert message.parse_entities(["bot_command"]) != {}
    query = updates[1].callback_query
    assert query is not None and query.data == "go" and query.from_user.id == CHAT
    assert (query.from_user.first_name, query.from_user.language_code) == ("Ana", "de")
    assert query.message is not None and query.message.message_id == question.message_id
    assert await query.answer("thanks") is True  # answerCallbackQuery through the bot

    assert len(await bot.get_updates(timeout=0)) == 2  # not confirmed yet: delivered again
    assert await bot.get_updates(offset=second + 1, timeout=0) == ()
    assert fake.pending_updates() == []


async def test_long_poll_waits_and_wakes_on_new_update(bot: Bot, fake: FakeTelegram) -> None:
    fake.open_chat(CHAT)
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.2)
    assert not poll.done()
    fake.user_sends(CHAT, "hello")
    updates = await asyncio.wait_for(poll, 2)
    assert [u.message.text for u in updates if u.message] == ["hello"]
    assert time.monotonic() - started < 1.5


async def test_long_poll_honours_timeout(bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert 0.9 <= time.monotonic() - started < 2


async def test_second_poller_terminates_first_with_conflict(bot: Bot, fake: FakeTelegram) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=3))
    await asyncio.sleep(0.1)
    # A second Bot: one Bot has a single connection for getUpdates (PTB's pool size 1).
    async with Bot(fake.token, base_url=fake.base_url) as second_instance:
        assert await second_instance.get_updates(timeout=0) == ()
    with pytest.raises(Conflict, match="terminated by other getUpdates"):
        await asyncio.wait_for(first, 2)


async def test_duplicate_update_is_delivered_again_with_same_id(
    bot: Bot, fake: FakeTelegram
) -> None:
    update_id = fake.user_sends(CHAT, "1")
    assert [u.update_id for u in await bot.get_updates(timeout=0)] == [update_id]
    assert await bot.get_updates(offset=update_id + 1, timeout=0) == ()
    fake.duplicate_update(update_id)
    again = await bot.get_updates(offset=update_id + 1, timeout=0)
    assert [(u.update_id, u.message.text if u.message else None) for u in again] == [
        (update_id, "1")
    ]
    assert await bot.get_updates(offset=update_id + 1, timeout=0) == ()


async def test_delete_messages_removes_visible(bot: Bot, fake: FakeTelegram) -> None:
    fake.user_sends(CHAT, "my answer")
    ids = [(await bot.send_message(CHAT, f"q{i}")).message_id for i in range(3)]
    assert await bot.delete_messages(CHAT, [1, ids[0], ids[2], 999]) is True
    assert [m["text"] for m in fake.visible(CHAT)] == ["q1"]
    assert await bot.delete_message(CHAT, ids[1]) is True
    assert fake.visible(CHAT) == []
    assert fake.sent_texts(CHAT) == ["q0", "q1", "q2"]  # the history of what was sent remains
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(CHAT, ids[1])
    with pytest.raises(BadRequest, match=r"(?i)too many message identifiers"):
        await bot.delete_messages(CHAT, list(range(1, 102)))


async def test_messages_older_than_48h_cannot_be_deleted(bot: Bot, fake: FakeTelegram) -> None:
    fake.open_chat(CHAT)
    old = await bot.send_message(CHAT, "sent two days ago")
    fake.advance(48 * 3600 + 5)
    with pytest.raises(BadRequest, match=r"(?i)message can't be deleted for everyone"):
        await bot.delete_message(CHAT, old.message_id)
    fresh = await bot.send_message(CHAT, "sent just now")
    with pytest.raises(BadRequest, match=r"(?i)message can't be deleted for everyone"):
        await bot.delete_messages(CHAT, [old.message_id, fresh.message_id, 999])
    # One too old fails the whole call (TDLib refuses to revoke for a bot): nothing deleted.
    assert [m["message_id"] for m in fake.visible(CHAT)] == [old.message_id, fresh.message_id]
    assert await bot.delete_messages(CHAT, [fresh.message_id, 999]) is True  # missing: skipped
    assert [m["message_id"] for m in fake.visible(CHAT)] == [old.message_id]


async def test_delete_messages_checks_identifiers_as_the_bot_api_does(
    bot: Bot, fake: FakeTelegram
) -> None:
    fake.open_chat(CHAT)
    with pytest.raises(BadRequest, match=r"(?i)invalid message identifier"):
        await bot.delete_messages(CHAT, [0])
    with pytest.raises(BadRequest, match=r"(?i)message identifiers are not specified"):
        await bot.delete_messages(CHAT, [])


async def test_edit_without_markup_removes_keyboard(bot: Bot, fake: FakeTelegram) -> None:
    fake.open_chat(CHAT)
    sent = await bot.send_message(CHAT, "Question?", reply_markup=keyboard("a", "b"))
    edited = await bot.edit_message_text("Thanks, saved.", CHAT, sent.message_id)
    assert isinstance(edited, type(sent)) and edited.text == "Thanks, saved."
    assert edited.reply_markup is None and edited.edit_date is not None
    assert "reply_markup" not in fake.visible(CHAT)[0]
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_reply_markup(CHAT, sent.message_id)
    await bot.edit_message_reply_markup(CHAT, sent.message_id, reply_markup=keyboard("c"))
    assert fake.visible(CHAT)[0]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "c"


async def test_error_mapping(bot: Bot, fake: FakeTelegram) -> None:
    fake.open_chat(CHAT)
    fake.fail_next("sendMessage", 429, retry_after=7)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(CHAT, "x")
    assert caught.value.retry_after == dtm.timedelta(seconds=7)
    assert fake.visible(CHAT) == []  # an injected failure has no side effect
    assert fake.calls_to("sendMessage")[-1].status == 429

    fake.fail_next("sendMessage", 400, description="Bad Request: chat not found")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(CHAT, "x")
    fake.fail_next("sendMessage", 500)
    with pytest.raises(NetworkError, match="Internal Server Error"):
        await bot.send_message(CHAT, "x")
    fake.malformed_next("sendMessage")
    with pytest.raises(TelegramError, match="Invalid server response"):
        await bot.send_message(CHAT, "x")
    fake.malformed_next("sendMessage", truncated=True, times=2)
    with pytest.raises(TelegramError, match="Invalid server response"):
        await bot.send_message(CHAT, "x")
    assert fake.faults_pending("sendMessage") == 1
    fake.clear_faults()

    fake.block_chat(CHAT)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(CHAT, "x")
    fake.unblock_chat(CHAT)
    assert (await bot.send_message(CHAT, "finally")).text == "finally"
    assert fake.sent_texts(CHAT) == ["finally"]


async def test_refused_connections_then_back_on_the_same_port() -> None:
    with FakeTelegram() as fake:
        fake.open_chat(CHAT)
        port = fake.port
        async with Bot(fake.token, base_url=fake.base_url) as bot:
            fake.refuse_connections()
            with pytest.raises(NetworkError):
                await bot.send_message(CHAT, "lost")
            fake.refuse_connections(False)
            assert fake.port == port
            await bot.send_message(CHAT, "through")
        assert fake.sent_texts(CHAT) == ["through"]


async def test_validation_errors(bot: Bot, fake: FakeTelegram) -> None:
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(999, "nobody pressed Start here")
    fake.open_chat(CHAT)
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(CHAT, "Thank you.", parse_mode="MarkdownV2")
    assert (await bot.send_message(CHAT, r"*Thank* you\.", parse_mode="MarkdownV2")).text == (
        "Thank you."
    )
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(CHAT, "x", reply_markup=keyboard("x" * 65))
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(CHAT, "x" * 4097)


async def test_wrong_token_is_invalid_token(fake: FakeTelegram) -> None:
    with pytest.raises(InvalidToken):
        async with Bot("999:WRONG", base_url=fake.base_url):
            pass
    assert fake.calls[-1].status == 401


async def test_hang_loses_or_applies_the_request(fake: FakeTelegram) -> None:
    fake.open_chat(CHAT)
    request = HTTPXRequest(read_timeout=0.2)
    async with Bot(fake.token, base_url=fake.base_url, request=request) as bot:
        fake.hang_next("sendMessage", 0.6)
        with pytest.raises(TimedOut):
            await bot.send_message(CHAT, "lost")
        fake.hang_next("sendMessage", 0.6, then_apply=True)
        with pytest.raises(TimedOut):
            await bot.send_message(CHAT, "sent but no answer")
    assert [m["text"] for m in fake.visible(CHAT)] == ["sent but no answer"]
    fake.wait_for(lambda f: [c.status for c in f.calls_to("sendMessage")] == [502, 200])


async def test_webhook_methods_and_conflict(bot: Bot, fake: FakeTelegram) -> None:
    with pytest.raises(BadRequest, match=r"(?i)HTTPS URL must be provided"):
        await bot.set_webhook("http://example.org/hook")
    assert await bot.set_webhook("https://example.org/hook", secret_token="s3cret") is True
    info = await bot.get_webhook_info()
    assert info.url == "https://example.org/hook" and info.pending_update_count == 0
    assert fake.webhook_info() == {
        "url": "https://example.org/hook",
        "secret_token": "s3cret",
        "max_connections": 40,
    }
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates(timeout=0)
    update = fake.make_message_update(CHAT, "via webhook")
    assert Update.de_json(update, bot).message.text == "via webhook"  # type: ignore[union-attr]
    assert fake.pending_updates() == []  # made, not queued
    assert await bot.delete_webhook() is True
    assert (await bot.get_webhook_info()).url == ""
    assert await bot.close() is True and await bot.log_out() is True


async def test_enforced_rate_limits() -> None:
    with FakeTelegram(enforce_limits=True) as fake:
        fake.open_chat(1)
        fake.open_chat(2)
        async with Bot(fake.token, base_url=fake.base_url) as bot:
            await bot.send_message(1, "a")
            await bot.send_message(2, "b")  # another chat is fine
            with pytest.raises(RetryAfter):
                await bot.send_message(1, "too soon")
        assert fake.rejected_429 == 1
        assert fake.max_rate() == 3 and fake.max_rate_per_chat() == 2
        assert fake.max_rate(window=0.000_001) == 1


def test_raw_http_contract(fake: FakeTelegram) -> None:
    """Sync client, like a bot started as a subprocess: exact error bodies, GET and JSON."""
    fake.open_chat(CHAT)
    base = f"http://127.0.0.1:{fake.port}"
    with httpx.Client(base_url=base, timeout=5) as client:
        wrong = client.post("/bot1:nope/getMe")
        assert wrong.status_code == 401
        assert wrong.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
        unknown = client.post(f"/bot{fake.token}/sendSticker")
        assert unknown.status_code == 404
        assert unknown.json() == {
            "ok": False,
            "error_code": 404,
            "description": "Not Found: method not found",
        }
        got = client.get(f"/bot{fake.token}/getMe").json()
        assert got["ok"] is True and got["result"]["username"] == "followup_test_bot"
        body = {"chat_id": str(CHAT), "text": "123", "reply_markup": {"inline_keyboard": []}}
        sent = client.post(f"/bot{fake.token}/sendMessage", json=body).json()["result"]
        assert sent["text"] == "123" and isinstance(sent["date"], int)
        assert sent["chat"] == {"id": CHAT, "type": "private", "first_name": "A"}
        assert "reply_markup" not in sent
        fake.fail_next("sendMessage", 429, retry_after=3)
        limited = client.post(f"/bot{fake.token}/sendMessage", data={"chat_id": CHAT, "text": "x"})
        assert limited.status_code == 429
        assert limited.json() == {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 3",
            "parameters": {"retry_after": 3},
        }


def test_wait_for_reports_what_it_saw(fake: FakeTelegram) -> None:
    fake.user_sends(CHAT, "hi")
    with pytest.raises(AssertionError, match=r"within 0\.05s.*'hi'.*IndexError"):
        fake.wait_for(lambda f: f.sent_texts(CHAT)[0] == "hello", timeout=0.05)


def test_user_presses_refuses_buttons_the_bot_never_offered(fake: FakeTelegram) -> None:
    fake.user_sends(CHAT, "hi")
    with pytest.raises(ValueError, match="no button"):
        fake.user_presses(CHAT, 1, "yes")
    with pytest.raises(ValueError, match="no visible message"):
        fake.user_presses(CHAT, 99, "yes")


def test_stop_is_quick_with_a_pending_long_poll() -> None:
    fake = FakeTelegram().start()
    url = f"{fake.base_url}{fake.token}/getUpdates"
    with httpx.Client(timeout=5) as client:
        started = time.monotonic()
        result: list[int] = []
        poller = threading.Thread(
            target=lambda: result.append(client.post(url, data={"timeout": "30"}).status_code)
        )
        poller.start()
        fake.wait_for(lambda f: f.calls_to("getUpdates"))
        fake.stop()
        poller.join(5)
    assert result == [200]
    assert time.monotonic() - started < 2
    with pytest.raises(RuntimeError):
        _ = fake.port


async def test_application_polling_receives_message(fake: FakeTelegram) -> None:
    received: list[str] = []

    async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        received.append(update.message.text)
        await update.message.reply_text("Got it")

    app = ApplicationBuilder().token(fake.token).base_url(fake.base_url).build()
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_text))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=1)
        fake.user_sends(CHAT, "I am safe")
        await fake.wait_for_async(lambda f: f.sent_texts(CHAT) == ["Got it"], timeout=5)
        await app.updater.stop()
        await app.stop()
    assert received == ["I am safe"]
    assert fake.calls_to("deleteWebhook")  # polling clears any webhook first
    assert fake.pending_updates() == []  # the final getUpdates confirmed the offset
