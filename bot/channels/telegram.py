"""Telegram as a channel: send with protected content, delete whole chats, edit keyboards.

Built on python-telegram-bot's ``Bot``, created lazily inside the running loop.
Provider errors become the channel errors the dispatcher understands; nothing
here logs a chat id, a token or a message text.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import logging
import warnings
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from telegram import Bot, InlineKeyboardMarkup
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import HTTPXRequest

from bot.channels import telegram_keyboards as kb
from bot.channels.base import (
    STAFF_ALERT_KIND,
    Limits,
    Pace,
    PermanentError,
    Rendered,
    TransientError,
    UnreachableError,
)
from bot.config import TelegramConfig

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Telegram counts arrivals; we space departures a little wider so network jitter
#: never makes two messages land inside one second.
RATE_MARGIN = 0.97
#: Bot-wide sends that may leave at once: a clump of live replies goes out together instead of
#: queueing 33 ms apart, while the window keeps every second at the limit (issue 17).
BOT_BURST = 10
DELETE_BATCH = 100
#: A chat's message ids are sequential; gaps between her recorded refs are filled
#: (e.g. a message whose send had no answer and was sent again) up to this span.
MAX_FILL_SPAN = 1000
#: A first message resent after a lost answer (killed after Telegram accepted it) leaves its
#: copy *below* her first recorded ref; this many ids below it are deleted too.
LOST_COPY_LOOKBACK = 10
_GONE_HINTS = ("message to delete not found", "message can't be deleted", "message_id_invalid")
_UNREACHABLE_HINTS = ("chat not found", "user not found", "peer_id_invalid")


def retry_seconds(value: int | float | dtm.timedelta) -> float:
    """RetryAfter.retry_after is an int today and a timedelta with PTB_TIMEDELTA=1."""
    if isinstance(value, dtm.timedelta):
        return value.total_seconds()
    return float(value)


def map_error(exc: TelegramError) -> Exception:
    """The channel error for a provider error (see the dispatcher for what each means)."""
    if isinstance(exc, RetryAfter):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PTB's deprecation note about the int type
            seconds = retry_seconds(exc.retry_after)
        return TransientError("telegram asked to slow down", retry_after=max(seconds, 1.0))
    if isinstance(exc, Forbidden):
        return UnreachableError("telegram: forbidden", reason="blocked")
    if isinstance(exc, BadRequest):
        text = exc.message.lower()
        if any(hint in text for hint in _UNREACHABLE_HINTS):
            return UnreachableError("telegram: chat not found", reason="chat_not_found")
        return PermanentError(f"telegram bad request: {_safe(exc)}")
    if isinstance(exc, TimedOut | NetworkError | InvalidToken):
        return TransientError(f"telegram: {exc.__class__.__name__}")
    if isinstance(exc, ChatMigrated):
        return PermanentError("telegram: chat migrated")
    return TransientError(f"telegram: {exc.__class__.__name__}")  # e.g. "Invalid server response"


def _safe(exc: TelegramError) -> str:
    """Telegram's descriptions carry no user data, but keep them short."""
    return exc.message[:120]


class TelegramChannel:
    """The Channel protocol over the Bot API; also edits keyboards and answers callbacks."""

    name = "telegram"
    style = "buttons"

    def __init__(
        self, config: TelegramConfig, *, pool_size: int = 16, read_timeout: float = 5.0
    ) -> None:
        self.config = config
        per_second = config.max_per_second * RATE_MARGIN
        self.limits = Limits(
            per_second=per_second,
            per_address_per_second=config.max_per_chat_per_second * RATE_MARGIN,
            burst=float(min(BOT_BURST, max(1, int(per_second)))),
            per_address_burst=float(config.chat_burst),
            per_second_window=max(1, int(per_second)),
        )
        self._pool_size = pool_size
        self._read_timeout = read_timeout
        self._bot: Bot | None = None
        self._ready = False
        self._lock = asyncio.Lock()

    # --- the client ----------------------------------------------------------

    def _client(self) -> Bot:
        if self._bot is None:
            self._bot = Bot(
                self.config.token,
                base_url=self.config.api_base_url,
                request=HTTPXRequest(
                    connection_pool_size=self._pool_size, read_timeout=self._read_timeout
                ),
                # getUpdates long-polls on its own connection so sends never wait for it.
                get_updates_request=HTTPXRequest(connection_pool_size=2, read_timeout=10.0),
            )
        return self._bot

    async def bot(self) -> Bot:
        """The initialised Bot (getMe done once); raises TelegramError if Telegram says no."""
        bot = self._client()
        if not self._ready:
            async with self._lock:
                if not self._ready:
                    await bot.initialize()
                    self._ready = True
        return bot

    async def close(self) -> None:
        if self._bot is not None and self._ready:
            try:
                await self._bot.shutdown()
            except Exception as exc:  # closing must never fail a shutdown
                log.warning("closing the Telegram client: %s", exc.__class__.__name__)
        self._bot, self._ready = None, False

    async def _mapped_bot(self) -> Bot:
        try:
            return await self.bot()
        except TelegramError as exc:
            raise map_error(exc) from None

    async def _call(self, make: Callable[[Bot], Awaitable[T]]) -> T:
        bot = await self._mapped_bot()
        try:
            return await make(bot)
        except TelegramError as exc:
            raise map_error(exc) from None

    # --- Channel protocol ------------------------------------------------------

    async def send(self, address: str, message: Rendered) -> str | None:
        markup = kb.build(message)
        if message.buttons and markup is None:
            log.warning("buttons of item %s too long for Telegram; sent without", message.item_id)
        sent = await self._call(
            lambda bot: bot.send_message(
                chat_id=int(address),
                text=message.text,
                reply_markup=markup,
                protect_content=True,
                # Silent on her phone; an alert to a support worker must ring.
                disable_notification=self.config.disable_notification
                and message.kind != STAFF_ALERT_KIND,
            )
        )
        return str(sent.message_id)

    async def delete(self, address: str, refs: Sequence[str]) -> set[str]:
        """Delete her chat's messages in batches; missing or too old ones count as gone."""
        return await self.delete_paced(address, refs, _no_pace)

    async def delete_paced(self, address: str, refs: Sequence[str], pace: Pace) -> set[str]:
        """``delete`` in ``deleteMessages`` calls of up to 100 ids, ``pace`` awaited before
        each call (also each call of a batch Telegram refused and that is split)."""
        ids = sorted({int(r) for r in refs if r.lstrip("-").isdigit()})
        gone = {r for r in refs if not r.lstrip("-").isdigit()}  # not a Telegram id: nothing to do
        if not ids:
            return gone
        targets = _fill(ids)
        chat = int(address)
        deleted: set[int] = set()
        for start in range(0, len(targets), DELETE_BATCH):
            batch = targets[start : start + DELETE_BATCH]
            try:
                await self._delete_batch(chat, batch, pace)
            except TransientError:
                if not deleted:
                    raise
                break  # keep what is done; the dispatcher retries the rest
            deleted.update(batch)
        return gone | {r for r in refs if r.lstrip("-").isdigit() and int(r) in deleted}

    async def _delete_batch(self, chat: int, batch: list[int], pace: Pace) -> None:
        """One ``deleteMessages`` call. Telegram refuses the whole call when one message is
        past 48 h (and deletes none), so then each half is tried again, down to single ids:
        every message that can still go goes, lost copies between her refs included."""
        bot = await self._mapped_bot()
        try:
            await pace()
            await bot.delete_messages(chat_id=chat, message_ids=batch)
            return
        except Forbidden:
            log.warning("cannot delete %d message(s): the bot is blocked", len(batch))
            return
        except BadRequest:
            pass  # one of them is too old: split
        except TelegramError as exc:
            raise map_error(exc) from None
        middle = max(len(batch) // 2, 1)
        for half in (batch[:middle], batch[middle:]):
            if len(half) == 1:
                await self._delete_one(chat, half[0], pace)
            elif half:
                await self._delete_batch(chat, half, pace)

    async def _delete_one(self, chat: int, message_id: int, pace: Pace) -> None:
        """A single id: ``deleteMessage`` says why it cannot go; gone or too old counts as done."""
        bot = await self._mapped_bot()
        try:
            await pace()
            await bot.delete_message(chat_id=chat, message_id=message_id)
        except BadRequest as exc:
            if not any(h in exc.message.lower() for h in _GONE_HINTS):
                log.warning("deleteMessage refused: %s", _safe(exc))
            elif "not found" not in exc.message.lower():
                log.warning("a message was too old to delete")
        except Forbidden:
            log.warning("cannot delete a message: the bot is blocked")
        except TelegramError as exc:
            raise map_error(exc) from None

    # --- used by the update handler ------------------------------------------

    async def answer_callback(self, query_id: str) -> None:
        """Stop the button's spinner; failures do not matter to her answer."""
        try:
            await (await self.bot()).answer_callback_query(query_id)
        except TelegramError as exc:
            log.info("answerCallbackQuery failed: %s", exc.__class__.__name__)

    async def set_keyboard(
        self, address: str, message_id: int, markup: InlineKeyboardMarkup | None
    ) -> bool:
        """Replace (or with None remove) a message's keyboard; False if Telegram refused."""
        try:
            await (await self.bot()).edit_message_reply_markup(
                chat_id=int(address), message_id=message_id, reply_markup=markup
            )
        except BadRequest as exc:
            if "not modified" not in exc.message.lower():
                log.info("keyboard edit refused: %s", _safe(exc))
            return False
        except TelegramError as exc:
            log.info("keyboard edit failed: %s", exc.__class__.__name__)
            return False
        return True


async def _no_pace() -> None:
    """``delete`` called outside the dispatcher: nothing to wait for."""


def _fill(ids: list[int]) -> list[int]:
    """Every id from a little below the first ref to the last: catches copies of messages sent
    again after a lost answer, also of her first one (missing ids are skipped by Telegram)."""
    low = max(1, ids[0] - LOST_COPY_LOOKBACK)
    if ids[-1] - ids[0] > MAX_FILL_SPAN:
        return [*range(low, ids[0]), *ids]
    return list(range(low, ids[-1] + 1))
