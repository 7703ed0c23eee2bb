"""Bot API object builders, parameter parsing and validation for the fake Telegram server.

Kept apart from the server so the rules that mirror the real Bot API (error texts, keyboard
and markup validation) can be read and checked on their own.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from typing import Any

JSONDict = dict[str, Any]

#: Methods the fake answers; anything else is "404 method not found" like the real API.
METHODS: tuple[str, ...] = (
    "getMe",
    "getUpdates",
    "sendMessage",
    "editMessageText",
    "editMessageReplyMarkup",
    "answerCallbackQuery",
    "deleteMessage",
    "deleteMessages",
    "sendChatAction",
    "setMyCommands",
    "getMyCommands",
    "deleteMyCommands",
    "setWebhook",
    "deleteWebhook",
    "getWebhookInfo",
    "close",
    "logOut",
)

#: Update types Telegram leaves out unless they are listed in ``allowed_updates``.
OPT_IN_UPDATE_TYPES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

DEFAULT_DESCRIPTIONS: dict[int, str] = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
}

# Form values arrive as strings; these must stay strings even when they look like JSON
# (a survey answer "1" or a callback query id "4711").
_STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_message_id",
        "url",
        "secret_token",
        "ip_address",
        "action",
        "language_code",
        "business_connection_id",
        "message_effect_id",
    }
)

_BUTTON_ACTIONS = frozenset(
    {
        "url",
        "callback_data",
        "web_app",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "copy_text",
        "callback_game",
        "pay",
    }
)

_HTML_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "a",
        "code",
        "pre",
        "span",
        "tg-spoiler",
        "tg-emoji",
        "blockquote",
    }
)
_HTML_TAG_RE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)(\s[^<>]*)?>")
# MarkdownV2 characters that never start formatting, so an unescaped one is always an error.
_MD2_NEVER_FORMATTING = frozenset("#+-={}.!")
_MD2_MARKERS = frozenset("*_~|")


class ApiError(Exception):
    """A Bot API error answer; raised by method handlers, turned into a JSON reply."""

    def __init__(self, status: int, description: str, parameters: JSONDict | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def payload(self) -> JSONDict:
        return error_payload(self.status, self.description, self.parameters)


def error_payload(
    status: int, description: str | None = None, parameters: JSONDict | None = None
) -> JSONDict:
    """Build ``{"ok": false, ...}`` exactly as Telegram shapes its errors."""
    body: JSONDict = {
        "ok": False,
        "error_code": status,
        "description": description or DEFAULT_DESCRIPTIONS.get(status, "Error"),
    }
    if parameters:
        body["parameters"] = parameters
    return body


def bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


def coerce_params(raw: Mapping[str, Any]) -> JSONDict:
    """Turn form/query strings into typed values the way Telegram reads them.

    python-telegram-bot sends every value as a string (objects JSON-encoded), so
    ``"true"`` -> True, ``"[1,2]"`` -> list, but ``text="123"`` stays a string.
    """
    out: JSONDict = {}
    for key, value in raw.items():
        if not isinstance(value, str) or key in _STRING_PARAMS:
            out[key] = value
            continue
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
    return out


def int_param(params: Mapping[str, Any], name: str, *, required: bool = True) -> int | None:
    """Read an integer parameter; Telegram also accepts numeric strings."""
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise bad_request(f"{name} is empty")
        return None
    if isinstance(value, bool):
        raise bad_request(f"invalid {name} specified")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    raise bad_request(f"invalid {name} specified")


def bool_param(params: Mapping[str, Any], name: str) -> bool:
    value = params.get(name)
    if isinstance(value, str):
        return value.lower() in ("true", "1")
    return bool(value)


def user_dict(
    user_id: int, first_name: str, *, language_code: str | None = None, is_bot: bool = False
) -> JSONDict:
    user: JSONDict = {"id": user_id, "is_bot": is_bot, "first_name": first_name}
    if language_code:
        user["language_code"] = language_code
    return user


def chat_dict(chat_id: int, first_name: str) -> JSONDict:
    """Private chat for positive ids (chat id == user id), a group for negative ones."""
    if chat_id < 0:
        return {"id": chat_id, "type": "group", "title": f"Group {chat_id}"}
    return {"id": chat_id, "type": "private", "first_name": first_name}


def command_entities(text: str) -> list[JSONDict]:
    """Telegram marks a leading ``/command`` as a bot_command entity; CommandHandler needs it."""
    match = re.match(r"/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?", text)
    if not match:
        return []
    return [{"offset": 0, "length": utf16_len(match.group(0)), "type": "bot_command"}]


def utf16_len(text: str) -> int:
    """Telegram counts text lengths and offsets in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def update_type(update: Mapping[str, Any]) -> str:
    return next((key for key in update if key != "update_id"), "")


def parse_reply_markup(raw: Any) -> JSONDict | None:
    """Validate reply_markup like Telegram; an empty inline keyboard means "no keyboard"."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raw = None
    if not isinstance(raw, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in raw:
        if raw.keys() & {"keyboard", "remove_keyboard", "force_reply"}:
            return raw
        raise bad_request("can't parse reply keyboard markup JSON object")
    rows = raw["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
    for row in rows:
        for button in row:
            _check_button(button)
    if not any(rows):
        return None
    return {"inline_keyboard": rows}


def _check_button(button: Any) -> None:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad_request("can't parse inline keyboard button: Text is not specified")
    actions = button.keys() & _BUTTON_ACTIONS
    if not actions:
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode()) <= 64:
            raise bad_request("BUTTON_DATA_INVALID")


def callback_datas(message: Mapping[str, Any]) -> list[str]:
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return [b["callback_data"] for row in rows for b in row if "callback_data" in b]


def render_text(text: str, parse_mode: Any) -> str:
    """Return the text as Telegram stores it: markup removed, bad markup rejected.

    Only the common mistakes are caught (unsupported HTML tags, stray ``<``, unescaped
    MarkdownV2 characters); entities are not produced.
    """
    if parse_mode is None or parse_mode == "":
        return text
    mode = str(parse_mode).lower()
    if mode == "html":
        return _render_html(text)
    if mode == "markdownv2":
        return _render_markdown_v2(text)
    if mode == "markdown":
        return re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text).translate(str.maketrans("", "", "*_`"))
    raise bad_request("unsupported parse_mode")


def _render_html(text: str) -> str:
    out: list[str] = []
    pos = 0
    while (start := text.find("<", pos)) != -1:
        out.append(text[pos:start])
        match = _HTML_TAG_RE.match(text, start)
        offset = len(text[:start].encode())
        if match is None:
            raise bad_request(
                f"can't parse entities: Unexpected character '<' at byte offset {offset}"
            )
        if match.group(2).lower() not in _HTML_TAGS:
            kind = "end" if match.group(1) else "start"
            raise bad_request(
                f'can\'t parse entities: Unsupported {kind} tag "{match.group(2)}" '
                f"at byte offset {offset}"
            )
        pos = match.end()
    out.append(text[pos:])
    return html.unescape("".join(out))


def _render_markdown_v2(text: str) -> str:
    out: list[str] = []
    i, code, n = 0, False, len(text)
    while i < n:
        char = text[i]
        if char == "\\" and i + 1 < n:
            out.append(text[i + 1])
            i += 2
            continue
        if text.startswith("```", i):
            code = not code
            i += 3
            if code:  # skip an optional language name right after the fence
                lang = re.match(r"[A-Za-z0-9_+-]*\n", text[i:])
                i += len(lang.group(0)) if lang else 0
            continue
        if char == "`":
            code = not code
        elif code:
            out.append(char)
        elif char == "]" and text.startswith("(", i + 1):
            close = text.find(")", i + 2)
            i = n if close == -1 else close + 1
            continue
        elif char in _MD2_MARKERS or char in "[]" or (char == ">" and text[i - 1 : i] in "\n"):
            pass  # formatting markers and blockquote starts are dropped from the text
        elif char in _MD2_NEVER_FORMATTING or char in "()>":
            raise bad_request(
                f"can't parse entities: Character '{char}' is reserved and must be escaped "
                "with the preceding '\\'"
            )
        else:
            out.append(char)
        i += 1
    return "".join(out)
