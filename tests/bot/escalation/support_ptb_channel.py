"""A minimal staff-route channel on the real python-telegram-bot client, for the fake Bot API.

Only what staff alerts need (send text + inline buttons); the real Telegram channel is
built on another branch and replaces this in the lead's end-to-end tests.
"""

from __future__ import annotations

from collections.abc import Sequence

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter

from bot.channels.base import (
    Limits,
    PermanentError,
    Rendered,
    TransientError,
    UnreachableError,
)


class PtbStaffChannel:
    name = "telegram"
    style = "buttons"
    limits = Limits(1000.0, 1000.0)

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send(self, address: str, message: Rendered) -> str | None:
        markup = None
        if message.buttons:
            markup = InlineKeyboardMarkup(
                [[InlineKeyboardButton(b.label, callback_data=b.data) for b in message.buttons]]
            )
        try:
            sent = await self.bot.send_message(int(address), message.text, reply_markup=markup)
        except RetryAfter as exc:
            raise TransientError("429", float(exc.retry_after.total_seconds())) from None  # type: ignore[union-attr]
        except Forbidden:
            raise UnreachableError("blocked", "blocked") from None
        except BadRequest as exc:
            raise PermanentError(str(exc)) from None
        except NetworkError as exc:  # 5xx and timeouts
            raise TransientError(str(exc)) from None
        return f"{address}:{sent.message_id}"

    async def delete(self, address: str, refs: Sequence[str]) -> set[str]:
        return set(refs)
