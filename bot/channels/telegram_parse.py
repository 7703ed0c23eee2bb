"""Webhook JSON -> ``Update``, the checks ``de_json`` leaves out, and her message -> ``Inbound``.

Anything can reach the webhook with the right secret (a proxy bug, a replay, a
future Bot API shape): what cannot be handled is refused (400) or dropped with a
warning, never a crash and never a 500 that Telegram would deliver again forever.
"""

from __future__ import annotations

from telegram import Bot, Chat, Message, Update, User

from bot.channels.base import Inbound


def parse_update(data: object, bot: Bot) -> Update | None:
    """An ``Update`` from webhook JSON, or None if it is not one.

    PTB raises whatever a malformed part trips over (KeyError, TypeError, AttributeError,
    OverflowError, ...), so every exception means "not an update" here.
    """
    if not isinstance(data, dict):
        return None
    try:
        return Update.de_json(data, bot)
    except Exception:
        return None


def malformed(update: Update) -> str | None:
    """The field that makes ``update`` unusable (missing or of the wrong type), or None.

    ``de_json`` accepts many shapes it does not check; handling them would raise later.
    """
    if not _is_int(update.update_id):
        return "update_id"
    for field, message in (("message", update.message), ("edited_message", update.edited_message)):
        if message is None:
            continue
        problem = _bad_message(message) or _bad_user(message.from_user, optional=True)
        if problem:
            return f"{field}.{problem}"
        if any(t is not None and not isinstance(t, str) for t in (message.text, message.caption)):
            return f"{field}.text"
    query = update.callback_query
    if query is not None:
        if not isinstance(query.id, str) or not isinstance(query.data, str | None):
            return "callback_query.id/data"
        problem = _bad_user(query.from_user, optional=False)
        if problem:
            return f"callback_query.{problem}"
        if query.message is not None:
            problem = _bad_message(query.message)
            if problem:
                return f"callback_query.message.{problem}"
    return None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _bad_message(message: object) -> str | None:
    if not _is_int(getattr(message, "message_id", None)):
        return "message_id"
    chat = getattr(message, "chat", None)
    if not isinstance(chat, Chat) or not _is_int(chat.id) or not isinstance(chat.type, str):
        return "chat"
    return None


def _bad_user(user: object, *, optional: bool) -> str | None:
    if user is None:
        return None if optional else "from"
    if not isinstance(user, User) or not _is_int(user.id):
        return "from"
    if not isinstance(user.language_code, str | None):
        return "from.language_code"
    return None


def message_inbound(update_id: int, message: Message, *, edited: bool = False) -> Inbound | None:
    """Her message, or her edit of one, as an ``Inbound``; None outside a private chat.

    An edit is de-duplicated by its own update id (never taken for the original delivered
    again) and never carries a ``/start`` token.
    """
    if message.chat.type != "private":
        return None
    text = message.text or message.caption or ""
    extra: dict[str, str] = {}
    user = message.from_user
    if user is not None:
        extra["user_id"] = str(user.id)
        if user.language_code:
            extra["language_code"] = user.language_code
    command, _, rest = text.strip().partition(" ")
    if command.split("@")[0] == "/start" and rest.strip() and not edited:
        extra["start_token"] = rest.strip()
    return Inbound(
        channel="telegram",
        address=str(message.chat.id),
        text=text,
        provider_id=f"update:{update_id}",
        message_ref=str(message.message_id),
        extra=extra,
        edited=edited,
    )
