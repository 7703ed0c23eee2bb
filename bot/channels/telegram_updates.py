"""The Telegram component of ``followup run``: updates in (polling or webhook), periodic work.

Each update from a private chat becomes an ``Inbound`` for the handler it is
given (the service, with enrolment and any staff router in front); it knows
nothing of the service. Button presses are answered at once and their keyboard
is edited so an old button cannot be pressed twice; multi-choice ticks are
kept in the keyboard itself. Update ids de-duplicate everything downstream.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from telegram import Bot, CallbackQuery, Message, Update
from telegram.error import InvalidToken, RetryAfter, TelegramError, TimedOut

from bot.channels import telegram_keyboards as kb
from bot.channels.base import Inbound, InboundHandler, NotStored
from bot.channels.telegram import TelegramChannel, retry_seconds
from bot.channels.telegram_parse import malformed, message_inbound, parse_update
from bot.config import ConfigError, TelegramConfig

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
#: ``edited_message``: an edit into the safe word must end the session (DESIGN.md §1.1);
#: Telegram delivers only the update types listed here.
ALLOWED_UPDATES = ("message", "edited_message", "callback_query")
POLL_TIMEOUT = 10
TICK_SECONDS = 60.0
MAX_TRIES = 3
RECENT_CALLBACKS = 10_000
Counter = Callable[[str], Awaitable[None]]
Tick = Callable[[], Awaitable[object]]


class TelegramUpdates:
    """A runner Component: polling by default, a webhook route in webhook mode."""

    name = "telegram"

    #: First pause before handling an update again that could not be stored.
    busy_retry_seconds = 1.0

    def __init__(
        self,
        config: TelegramConfig,
        channel: TelegramChannel,
        handler: InboundHandler,
        *,
        count: Counter,
        tick: Tick | None = None,
        tick_seconds: float = TICK_SECONDS,
        poll_timeout: int = POLL_TIMEOUT,
    ) -> None:
        self.config = config
        self.channel = channel
        self.handler = handler
        self.count = count
        self.tick = tick
        self.tick_seconds = tick_seconds
        self.poll_timeout = poll_timeout
        self.offset: int | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._side: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()
        # Presses seen lately, so a redelivered one edits nothing; after a restart the
        # service's de-dup and the +/- toggle data keep a redelivery harmless anyway.
        self._recent: OrderedDict[str, None] = OrderedDict()
        self._fetch: asyncio.Future[tuple[Update, ...]] | None = None
        if config.mode == "webhook":
            if not config.webhook_secret:
                raise ConfigError(
                    "telegram.mode is 'webhook' but telegram.webhook_secret is empty"
                    " (set FOLLOWUP_TELEGRAM_WEBHOOK_SECRET)"
                )
            if not config.webhook_url.startswith("https://"):
                raise ConfigError("telegram.webhook_url must be the public https:// URL")

    # --- Component --------------------------------------------------------------

    def routes(self) -> Sequence[BaseRoute]:
        if self.config.mode != "webhook":
            return []
        return [Route(self.config.webhook_path, self._webhook, methods=["POST"])]

    async def start(self) -> None:
        try:
            bot = await self.channel.bot()
        except InvalidToken:
            raise ConfigError("telegram.token was refused by Telegram (check the token)") from None
        except TelegramError as exc:  # offline at start: the poll loop keeps trying
            log.warning("Telegram not reachable at start (%s); retrying", exc.__class__.__name__)
        else:
            if self.config.bot_username and bot.username != self.config.bot_username:
                log.warning("telegram.bot_username differs from the bot's own; links will fail")
        if self.config.mode == "webhook":
            await self._set_webhook()
        else:
            self._tasks.append(asyncio.create_task(self._poll(), name="telegram-poll"))
        if self.tick is not None:
            self._tasks.append(asyncio.create_task(self._ticker(), name="telegram-tick"))

    async def stop(self) -> None:
        """Finish the update in hand, end the long poll, confirm the offset; then stop ticking."""
        self._stopping.set()
        if self._fetch is not None:
            self._fetch.cancel()
        for task in self._tasks:
            if task.get_name() != "telegram-poll":
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(task, 10)
        self._tasks.clear()
        await self.settle(within=3)
        if self.config.mode != "webhook" and self.offset is not None:
            with contextlib.suppress(TelegramError):
                bot = await self.channel.bot()  # confirm what was handled, as PTB does
                await bot.get_updates(offset=self.offset, timeout=0, limit=1)

    # --- polling ---------------------------------------------------------------

    async def _poll(self) -> None:
        delay = 1.0
        webhook_cleared = False
        while not self._stopping.is_set():
            try:
                bot = await self.channel.bot()
                if not webhook_cleared:
                    await bot.delete_webhook()
                    webhook_cleared = True
                self._fetch = asyncio.ensure_future(
                    bot.get_updates(
                        offset=self.offset,
                        timeout=self.poll_timeout,
                        allowed_updates=list(ALLOWED_UPDATES),
                    )
                )
                updates = await self._fetch
                delay = 1.0
            except asyncio.CancelledError:
                if self._stopping.is_set():
                    return
                raise
            except TimedOut:
                continue
            except RetryAfter as exc:
                await self._pause(retry_seconds(exc.retry_after))
                continue
            except TelegramError as exc:
                log.warning("getUpdates failed (%s); retry in %.0fs", exc.__class__.__name__, delay)
                await self._pause(delay)
                delay = min(delay * 2, 60.0)
                continue
            except Exception as exc:  # PTB could not parse the batch: one update is malformed
                log.warning("getUpdates: an update PTB cannot parse (%s)", type(exc).__name__)
                try:
                    updates = await self._parseable(bot)
                except Exception as again:  # never let polling die; try again later
                    log.error("getUpdates failed (%s); retry in %.0fs", type(again).__name__, delay)
                    await self._pause(delay)
                    delay = min(delay * 2, 60.0)
                    continue
            finally:
                self._fetch = None
            for update in updates:
                if not await self._process_with_retries(update):
                    break
                self.offset = update.update_id + 1

    async def _parseable(self, bot: Bot) -> tuple[Update, ...]:
        """The batch again, raw: the updates before the first bad one; a bad one at the head
        is dropped (offset past it) with a warning, so one update cannot stop polling."""
        raw = await bot.do_api_request(
            "getUpdates", api_kwargs={"offset": self.offset, "timeout": 0, "limit": 100}
        )
        if not isinstance(raw, list):
            raise TypeError("getUpdates did not return a list")
        kept: list[Update] = []
        dropped = 0
        for item in raw:
            update = parse_update(item, bot)
            if update is not None:
                kept.append(update)
                continue
            update_id = item.get("update_id") if isinstance(item, dict) else None
            if kept or not isinstance(update_id, int):
                break  # handle those before it first; an id-less one waits for the backoff
            log.warning("update %s dropped: it cannot be parsed", update_id)
            self.offset = update_id + 1
            dropped += 1
        if raw and not kept and not dropped:  # an id-less head: the backoff, not a tight loop
            raise TypeError("getUpdates: the first update has no id and cannot be parsed")
        return tuple(kept)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def _process_with_retries(self, update: Update) -> bool:
        """Handle one update; a failing one is tried again, then skipped (never loops forever).

        One that could not be stored (database locked) is never skipped: it is tried until
        it is, or until we stop, unconfirmed, so Telegram delivers it again after the restart.
        """
        failures = 0
        busy_pause = self.busy_retry_seconds
        while True:
            try:
                if await self.process(update):
                    return True
                failures += 1
                if failures >= MAX_TRIES:
                    log.error("update %s skipped after %d failures", update.update_id, failures)
                    return True
                pause = 0.5 * failures
            except NotStored:
                log.warning("update %s not stored (database locked); retrying", update.update_id)
                pause, busy_pause = busy_pause, min(busy_pause * 2, 30.0)
            if self._stopping.is_set():
                return False  # not confirmed: Telegram delivers it again after the restart
            await self._pause(pause)

    # --- webhook -------------------------------------------------------------------

    async def _set_webhook(self) -> None:
        """Register our URL and secret; if Telegram cannot be reached now, keep trying."""
        try:
            await self._register_webhook()
        except InvalidToken:
            raise ConfigError("telegram.token was refused by Telegram (check the token)") from None
        except TelegramError as exc:
            log.error("setWebhook failed (%s); retrying", exc.__class__.__name__)
            self._tasks.append(asyncio.create_task(self._retry_webhook(), name="telegram-hook"))

    async def _register_webhook(self) -> None:
        bot = await self.channel.bot()
        await bot.set_webhook(
            url=self.config.webhook_url,
            secret_token=self.config.webhook_secret,
            allowed_updates=list(ALLOWED_UPDATES),
        )

    async def _retry_webhook(self) -> None:
        delay = 2.0
        while not self._stopping.is_set():
            await self._pause(delay)
            try:
                await self._register_webhook()
                log.info("webhook registered")
                return
            except TelegramError as exc:
                log.warning("setWebhook failed again (%s)", exc.__class__.__name__)
                delay = min(delay * 2, 300.0)

    async def _webhook(self, request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self.config.webhook_secret.encode()):
            try:
                await self.count("telegram_webhook_rejected")
            except Exception as exc:  # a lost count must not turn a refusal into a 500
                log.warning("rejected-webhook count not kept: %s", type(exc).__name__)
            return Response(status_code=403)
        try:
            data = await request.json()
        except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested too deep
            return Response(status_code=400)
        try:
            bot = await self.channel.bot()
        except TelegramError:  # getMe failed: Telegram delivers it again
            return Response(status_code=503)
        update = parse_update(data, bot)
        if update is None:
            log.warning("webhook body is not an update; refused with 400")
            return Response(status_code=400)
        try:
            ok = await self.process(update)
        except NotStored:
            return Response(status_code=503)  # nothing kept: Telegram delivers it again
        return Response(status_code=200 if ok else 500)  # 500: Telegram delivers it again

    # --- one update ------------------------------------------------------------------

    async def process(self, update: Update) -> bool:
        """Turn an update into an Inbound and hand it on; False if handling failed.

        ``NotStored`` passes through: the caller must have Telegram deliver it again.
        """
        reason = malformed(update)
        if reason is not None:
            log.warning("update dropped: %s missing or of the wrong type", reason)
            return True  # handling it again would fail alike
        try:
            if update.callback_query is not None:
                await self._callback(update.callback_query)
            elif update.message is not None:
                await self._message(update.update_id, update.message)
            elif update.edited_message is not None:
                await self._message(update.update_id, update.edited_message, edited=True)
            return True
        except NotStored:
            raise
        except Exception:
            log.exception("handling update %s failed", update.update_id)
            return False

    async def _message(self, update_id: int, message: Message, *, edited: bool = False) -> None:
        inbound = message_inbound(update_id, message, edited=edited)
        if inbound is not None:
            await self.handler(inbound)

    async def _callback(self, query: CallbackQuery) -> None:
        if query.id in self._recent:
            return  # redelivered: already answered, edited and handed on
        self._recent[query.id] = None
        while len(self._recent) > RECENT_CALLBACKS:
            self._recent.popitem(last=False)
        try:
            await self._press(query)
        except BaseException:
            self._recent.pop(query.id, None)  # not handled: a retry must go through
            raise

    async def _press(self, query: CallbackQuery) -> None:
        self._aside(self.channel.answer_callback(query.id))
        message = query.message
        if message is None or message.chat.type != "private":
            return
        address = str(message.chat.id)
        data = query.data or ""
        extra = {"callback_data": data, "user_id": str(query.from_user.id)}
        press = kb.parse(data)
        markup = message.reply_markup if isinstance(message, Message) else None
        if press.kind == "toggle":
            if markup is not None:
                new = kb.toggled(markup, press)
                if new is not None:
                    await self.channel.set_keyboard(address, message.message_id, new)
            return
        choices: tuple[str, ...] | None = None
        if press.kind == "choice" and press.code:
            choices = (press.code,)
        elif press.kind == "done":
            choices = kb.ticked(markup, press.item or "")
        if press.kind in ("choice", "done") and markup is not None:
            self._aside(self.channel.set_keyboard(address, message.message_id, None))
        await self.handler(
            Inbound(
                channel="telegram",
                address=address,
                text="",
                provider_id=f"callback:{query.id}",
                choices=choices,
                for_item=press.item if choices is not None else None,
                extra=extra,
            )
        )

    async def settle(self, within: float = 5.0) -> None:
        """Wait (at most ``within`` seconds) for answers and keyboard edits still under way."""
        if self._side:
            await asyncio.wait(set(self._side), timeout=within)

    def _aside(self, work: Awaitable[object]) -> None:
        """Fire-and-forget calls that must not hold up her answer (tracked for a clean stop)."""

        async def run() -> None:
            await work

        task = asyncio.create_task(run())
        self._side.add(task)
        task.add_done_callback(self._side.discard)

    async def _ticker(self) -> None:
        assert self.tick is not None
        while True:
            try:
                await self.tick()
            except Exception:
                log.exception("periodic Telegram work failed")
            await asyncio.sleep(self.tick_seconds)
