"""State and Bot API method implementations behind the fake Telegram server.

Everything here runs with ``self._lock`` held (by the HTTP layer in ``telegram_api`` or by the
public helpers below), so the test thread and the server thread see consistent state.
"""

from __future__ import annotations

import copy
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .telegram_objects import (
    METHODS,
    OPT_IN_UPDATE_TYPES,
    ApiError,
    JSONDict,
    bad_request,
    bool_param,
    callback_datas,
    chat_dict,
    command_entities,
    int_param,
    parse_reply_markup,
    render_text,
    update_type,
    user_dict,
)

CANONICAL = {name.lower(): name for name in METHODS}
_DELETE_WINDOW = 48 * 3600
_MAX_TEXT = 4096
DEFAULT_FIRST_NAME = "A"


@dataclass
class Pending:
    """A queued update; duplicates are dropped once delivered, whatever the offset says."""

    update: JSONDict
    duplicate: bool = False
    delivered: bool = False


def _message_identifier(value: Any) -> int:
    """One entry of ``message_ids`` checked as the Bot API does (numbers or numeric strings)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise bad_request("message identifier must be a Number")
    try:
        number = int(value)
    except ValueError:
        raise bad_request("can't parse message identifier as a Number") from None
    if number <= 0:
        raise bad_request("invalid message identifier specified")
    return number


class BotApiState:
    """Chats, visible messages and updates, plus the Bot API methods acting on them.

    The lock is the server harness's (`FakeTelegram` is both); calls and faults are its too.
    """

    _lock: threading.RLock

    def __init__(
        self,
        token: str,
        bot_username: str,
        *,
        enforce_limits: bool,
        bot_first_name: str,
    ) -> None:
        self.token = token
        self.bot_username = bot_username
        self.bot_id = int(token.split(":", 1)[0])
        self.enforce_limits = enforce_limits
        self.bot_user = user_dict(self.bot_id, bot_first_name, is_bot=True)
        self.bot_user["username"] = bot_username
        self._poll_generation = 0  # survives reset(): a stale long poll must not match a new one
        self.reset()

    # ------------------------------------------------------------------ state and clock

    def reset(self) -> None:
        """Forget all chats, updates and settings (the server keeps running)."""
        with self._lock:
            self.clock_offset = 0.0
            self.rejected_429 = 0
            self._users: dict[int, JSONDict] = {}
            self._chats: dict[int, JSONDict] = {}
            self._visible: dict[int, dict[int, JSONDict]] = {}
            self._sent: dict[int, list[JSONDict]] = {}
            self._next_message_id: dict[int, int] = {}
            self._queue: list[Pending] = []
            self._update_log: dict[int, JSONDict] = {}
            self._next_update_id = 100_000
            self._callbacks: dict[str, JSONDict] = {}
            self._next_callback_id = 7_000_000_000_000_000_000
            self._blocked: set[int] = set()
            self._send_log: deque[tuple[float, Any]] = deque()
            self._webhook: JSONDict | None = None
            self._allowed_updates: list[str] | None = None
            self._commands: list[JSONDict] = []

    def now(self) -> float:
        """The fake's clock: wall time plus ``clock_offset`` (used for dates and the 48 h rule)."""
        return time.time() + self.clock_offset

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.clock_offset += seconds

    # ------------------------------------------------------------------ simulating the user

    def open_chat(
        self,
        chat_id: int,
        *,
        first_name: str = DEFAULT_FIRST_NAME,
        language_code: str | None = None,
    ) -> None:
        """Make a chat known without a message (as if the user had pressed Start earlier)."""
        with self._lock:
            self._ensure_chat(chat_id, chat_id if chat_id > 0 else None, first_name, language_code)

    def make_message_update(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        first_name: str = DEFAULT_FIRST_NAME,
        language_code: str | None = None,
    ) -> JSONDict:
        """Build a text-message update (message becomes visible) without queueing it."""
        with self._lock:
            user = self._ensure_chat(chat_id, user_id, first_name, language_code)
            message = self._new_message(chat_id, user, text)
            entities = command_entities(text)
            if entities:
                message["entities"] = entities
            return self._log_update({"message": message})

    def make_edit_update(self, chat_id: int, message_id: int, text: str) -> JSONDict:
        """The user edits her message ``message_id``: an ``edited_message`` update carrying
        the whole message with its new text and an ``edit_date``, as the Bot API sends it."""
        with self._lock:
            message = self._visible.get(chat_id, {}).get(message_id)
            if message is None or message.get("from", {}).get("is_bot"):
                raise ValueError(f"no message {message_id} of the user in chat {chat_id}")
            message["text"] = text
            message["edit_date"] = int(self.now())
            return self._log_update({"edited_message": message})

    def make_callback_update(
        self,
        chat_id: int,
        message_id: int,
        data: str,
        *,
        user_id: int | None = None,
        strict: bool = True,
    ) -> JSONDict:
        """Build a callback_query update for a visible bot message without queueing it.

        With ``strict`` the data must belong to one of the message's buttons, so a test cannot
        press a button the bot never offered; pass ``strict=False`` to forge stale/bogus data.
        """
        with self._lock:
            message = self._visible.get(chat_id, {}).get(message_id)
            if message is None:
                raise ValueError(f"no visible message {message_id} in chat {chat_id}")
            if strict and data not in callback_datas(message):
                raise ValueError(
                    f"message {message_id} has no button with callback_data {data!r}; "
                    f"buttons: {callback_datas(message)}"
                )
            user = self._ensure_chat(chat_id, user_id, DEFAULT_FIRST_NAME, None)
            self._next_callback_id += 1
            query_id = str(self._next_callback_id)
            self._callbacks[query_id] = {"chat_id": chat_id, "message_id": message_id}
            query = {
                "id": query_id,
                "from": copy.deepcopy(user),
                "message": copy.deepcopy(message),
                "chat_instance": str(5_000_000_000 + abs(chat_id)),
                "data": data,
            }
            return self._log_update({"callback_query": query})

    def block_chat(self, chat_id: int) -> None:
        """The user blocked the bot: sending or editing in this chat answers 403."""
        with self._lock:
            self._blocked.add(chat_id)

    def unblock_chat(self, chat_id: int) -> None:
        with self._lock:
            self._blocked.discard(chat_id)

    # ------------------------------------------------------------------ Bot API methods

    def _apply(self, method: str, params: JSONDict) -> tuple[int, JSONDict]:
        handler: Callable[[JSONDict], Any] = getattr(self, f"_api_{method}")
        try:
            return 200, {"ok": True, "result": handler(params)}
        except ApiError as exc:
            return exc.status, exc.payload()

    def _api_getMe(self, params: JSONDict) -> JSONDict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _api_sendMessage(self, params: JSONDict) -> JSONDict:
        chat_id = self._writable_chat(params)
        text = self._text(params)
        markup = parse_reply_markup(params.get("reply_markup"))
        reply_to = self._reply_target(chat_id, params)
        if self.enforce_limits:
            self._check_rate(chat_id)
        message = self._new_message(chat_id, self.bot_user, text)
        if markup is not None and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        if bool_param(params, "protect_content"):
            message["has_protected_content"] = True
        if reply_to is not None:
            message["reply_to_message"] = copy.deepcopy(reply_to)
        self._sent.setdefault(chat_id, []).append(copy.deepcopy(message))
        return copy.deepcopy(message)

    def _api_editMessageText(self, params: JSONDict) -> JSONDict:
        message = self._editable(params)
        return self._edit(message, self._text(params), params)

    def _api_editMessageReplyMarkup(self, params: JSONDict) -> JSONDict:
        message = self._editable(params)
        return self._edit(message, message.get("text", ""), params)

    def _api_answerCallbackQuery(self, params: JSONDict) -> bool:
        query = self._callbacks.get(str(params.get("callback_query_id", "")))
        if query is None:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        query["answer"] = dict(params)
        return True

    def _api_deleteMessage(self, params: JSONDict) -> bool:
        chat_id = self._known_chat(params)
        message_id = int_param(params, "message_id")
        message = self._visible[chat_id].get(message_id or 0)
        if message is None:
            raise bad_request("message to delete not found")
        if self.now() - message["date"] > _DELETE_WINDOW:
            raise bad_request("message can't be deleted for everyone")
        del self._visible[chat_id][message["message_id"]]
        return True

    def _api_deleteMessages(self, params: JSONDict) -> bool:
        chat_id = self._known_chat(params)
        ids = params.get("message_ids")
        if not isinstance(ids, list) or not ids:
            raise bad_request("message identifiers are not specified")
        if len(ids) > 100:
            raise bad_request("too many message identifiers specified")
        wanted = dict.fromkeys(_message_identifier(i) for i in ids)  # a repeated id: once
        visible = self._visible[chat_id]
        found = [visible[i] for i in wanted if i in visible]  # missing ones are skipped
        if any(self.now() - m["date"] > _DELETE_WINDOW for m in found):
            # Like the Bot API (TDLib refuses to revoke for a bot): one too old, none deleted.
            raise bad_request("message can't be deleted for everyone")
        for message in found:
            del visible[message["message_id"]]
        return True

    def _api_sendChatAction(self, params: JSONDict) -> bool:
        self._writable_chat(params)
        return True

    def _api_setMyCommands(self, params: JSONDict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        self._commands = commands
        return True

    def _api_getMyCommands(self, params: JSONDict) -> list[JSONDict]:
        return copy.deepcopy(self._commands)

    def _api_deleteMyCommands(self, params: JSONDict) -> bool:
        self._commands = []
        return True

    def _api_setWebhook(self, params: JSONDict) -> bool:
        url = str(params.get("url") or "")
        if not url:
            return self._api_deleteWebhook(params)
        if not url.startswith("https://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not (
            1 <= len(str(secret)) <= 256 and all(c.isalnum() or c in "_-" for c in str(secret))
        ):
            raise bad_request("secret token contains unallowed characters")
        if bool_param(params, "drop_pending_updates"):
            self._queue.clear()
        if isinstance(params.get("allowed_updates"), list):
            self._allowed_updates = params["allowed_updates"] or None
        self._webhook = {
            "url": url,
            "secret_token": secret,
            "max_connections": int_param(params, "max_connections", required=False) or 40,
        }
        return True

    def _api_deleteWebhook(self, params: JSONDict) -> bool:
        if bool_param(params, "drop_pending_updates"):
            self._queue.clear()
        self._webhook = None
        return True

    def _api_getWebhookInfo(self, params: JSONDict) -> JSONDict:
        info: JSONDict = {
            "url": self._webhook["url"] if self._webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._queue),
        }
        if self._webhook:
            info["max_connections"] = self._webhook["max_connections"]
        if self._allowed_updates:
            info["allowed_updates"] = list(self._allowed_updates)
        return info

    def _api_close(self, params: JSONDict) -> bool:
        return True

    def _api_logOut(self, params: JSONDict) -> bool:
        return True

    # ------------------------------------------------------------------ helpers

    def _confirm(self, offset: int | None) -> None:
        if offset is None:
            return
        if offset < 0:
            self._queue = self._queue[offset:]
            return
        self._queue = [
            p
            for p in self._queue
            if not (p.delivered if p.duplicate else p.update["update_id"] < offset)
        ]

    def _take(self, limit: int) -> list[JSONDict]:
        allowed = self._allowed_updates
        self._queue = [
            p
            for p in self._queue
            if (
                update_type(p.update) in allowed
                if allowed
                else update_type(p.update) not in OPT_IN_UPDATE_TYPES
            )
        ]
        batch = sorted(self._queue, key=lambda p: int(p.update["update_id"]))[:limit]
        for pending in batch:
            pending.delivered = True
        return [copy.deepcopy(p.update) for p in batch]

    def _ensure_chat(
        self, chat_id: int, user_id: int | None, first_name: str, language_code: str | None
    ) -> JSONDict:
        """Register user and chat; returns the user. Private chats: chat id == user id.

        A known user keeps their name unless a non-default one is given, and keeps their
        language unless a new one is given, so later helper calls need not repeat them.
        """
        if user_id is None:
            if chat_id < 0:
                raise ValueError("user_id is required for group chats")
            user_id = chat_id
        user = self._users.setdefault(user_id, user_dict(user_id, first_name))
        if first_name != DEFAULT_FIRST_NAME:
            user["first_name"] = first_name
        if language_code:
            user["language_code"] = language_code
        self._chats.setdefault(chat_id, chat_dict(chat_id, user["first_name"]))
        self._visible.setdefault(chat_id, {})
        return user

    def _new_message(self, chat_id: int, sender: JSONDict, text: str) -> JSONDict:
        message_id = self._next_message_id.get(chat_id, 0) + 1
        self._next_message_id[chat_id] = message_id
        message: JSONDict = {
            "message_id": message_id,
            "from": copy.deepcopy(sender),
            "chat": copy.deepcopy(self._chats[chat_id]),
            "date": int(self.now()),
            "text": text,
        }
        self._visible.setdefault(chat_id, {})[message_id] = message
        return message

    def _log_update(self, body: JSONDict) -> JSONDict:
        self._next_update_id += 1
        update = {"update_id": self._next_update_id, **copy.deepcopy(body)}
        self._update_log[self._next_update_id] = update
        return copy.deepcopy(update)

    def _known_chat(self, params: JSONDict) -> int:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is empty")
        if isinstance(chat_id, str) and chat_id.lstrip("-").isdigit():
            chat_id = int(chat_id)
        if not isinstance(chat_id, int) or chat_id not in self._chats:
            raise bad_request("chat not found")
        return chat_id

    def _writable_chat(self, params: JSONDict) -> int:
        chat_id = self._known_chat(params)
        if chat_id in self._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat_id

    def _text(self, params: JSONDict) -> str:
        raw = params.get("text")
        if raw is None or str(raw).strip() == "":
            raise bad_request("message text is empty")
        text = render_text(str(raw), params.get("parse_mode"))
        if not text.strip():
            raise bad_request("message text is empty")
        if len(text.encode("utf-16-le")) // 2 > _MAX_TEXT:
            raise bad_request("message is too long")
        return text

    def _reply_target(self, chat_id: int, params: JSONDict) -> JSONDict | None:
        reply = params.get("reply_parameters")
        target = reply.get("message_id") if isinstance(reply, dict) else None
        target = target or params.get("reply_to_message_id")
        if target is None:
            return None
        try:
            message = self._visible[chat_id].get(int(target))
        except (TypeError, ValueError):
            raise bad_request("message to be replied not found") from None
        allow = bool_param(params, "allow_sending_without_reply") or (
            isinstance(reply, dict) and bool(reply.get("allow_sending_without_reply"))
        )
        if message is None and not allow:
            raise bad_request("message to be replied not found")
        return message

    def _editable(self, params: JSONDict) -> JSONDict:
        if params.get("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        chat_id = self._writable_chat(params)
        message = self._visible[chat_id].get(int_param(params, "message_id") or 0)
        if message is None:
            raise bad_request("message to edit not found")
        if message["from"]["id"] != self.bot_id:
            raise bad_request("message can't be edited")
        return message

    def _edit(self, message: JSONDict, text: str, params: JSONDict) -> JSONDict:
        """Apply an edit; like Telegram, omitting reply_markup removes the inline keyboard."""
        markup = parse_reply_markup(params.get("reply_markup"))
        if markup is not None and "inline_keyboard" not in markup:
            raise bad_request("inline keyboard expected")
        if text == message.get("text") and markup == message.get("reply_markup"):
            raise bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        message["text"] = text
        if markup is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = markup
        message["edit_date"] = int(self.now())
        return copy.deepcopy(message)

    def _check_rate(self, chat_id: int) -> None:
        """30 messages/s overall and 1/s per chat, 1-second sliding window of accepted sends."""
        now = self.now()
        while self._send_log and now - self._send_log[0][0] >= 1.0:
            self._send_log.popleft()
        if len(self._send_log) >= 30 or any(c == chat_id for _, c in self._send_log):
            self.rejected_429 += 1
            raise ApiError(429, "Too Many Requests: retry after 1", {"retry_after": 1})
        self._send_log.append((now, chat_id))
