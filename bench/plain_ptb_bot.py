"""The comparison bot of ``bench/telegram_load.py``: the survey as a plain PTB bot would run it.

A python-telegram-bot ``Application`` with one ``ConversationHandler`` walking the shipped
survey's T0 items (the same file, texts, choices, ``when`` skips and button data as ours),
``PicklePersistence`` to a file, long polling. No database, no encryption, no outbox, no
deletions, no safety exits: it is the floor our service is measured against, never a product.
Invariant: for the same answers it asks the same questions in the same order as our engine.

Run by the load bench as ``python -m bench.plain_ptb_bot BASE_URL PICKLE_FILE`` with
``TELEGRAM_BOT_TOKEN`` set; a helper for that bench, so ``make bench`` skips it.
"""

from __future__ import annotations

import os
import re
import sys
import warnings
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    PicklePersistence,
    filters,
)
from telegram.warnings import PTBUserWarning

import conversations.messages as m
from bot.text.surveys import load_survey
from conversations.answers import Answer
from conversations.conditions import evaluate
from conversations.survey import Item, Survey

TIMEPOINT = "T0"
#: Our service's English lines around the survey, so both bots send her the same chat.
OPENER = m.OPENER.format(sender="Sam")
HOW_TO = m.HOW_TO
CLOSING = m.CLOSING
GATE = "_gate"
#: The consent question after the gate (issue 20), with our service's codes and labels.
CONSENT = "_consent"
CONSENT_ANSWERS = (("Yes", "yes"), ("Not this time", "not_this_time"), ("Stop for good", "stop"))
ASKING = 0  # the one conversation state: the current item lives in user_data


def asked_items(survey: Survey) -> list[Item]:
    """T0's items in order; free text is skipped as our service does by default."""
    return [i for i in survey.items if TIMEPOINT in i.timepoints and i.type != "text"]


def keyboard(item: Item) -> InlineKeyboardMarkup | None:
    """The same buttons and callback data as ``bot/channels/telegram_keyboards.py``."""
    if item.type in ("scale", "number") and item.minimum is not None and item.maximum is not None:
        if item.maximum - item.minimum > 10:
            return None
        points = [(str(n), f"{item.id}|{n}") for n in range(item.minimum, item.maximum + 1)]
        return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=d)] for t, d in points])
    choices = item.effective_choices()
    if not choices:
        return None
    suffix = "|+" if item.type == "multi" else ""
    rows = [
        [InlineKeyboardButton(c.label, callback_data=f"{item.id}|{c.code}{suffix}")]
        for c in choices
    ]
    if item.type == "multi":
        rows.append([InlineKeyboardButton("Done", callback_data=f"{item.id}||done")])
    return InlineKeyboardMarkup(rows)


class PlainSurvey:
    """The survey walk: next item after an answer, answers kept in ``user_data``."""

    def __init__(self, survey: Survey) -> None:
        self.survey = survey
        self.items = asked_items(survey)

    def next_item(self, after: str, answers: dict[str, Answer]) -> Item | None:
        ids = [i.id for i in self.items]
        start = 0 if after == GATE else ids.index(after) + 1
        for item in self.items[start:]:
            if item.when is None or evaluate(item.when, answers):
                return item
        return None

    def parse_text(self, item: Item, text: str) -> Answer | None:
        """A typed answer: choice numbers (several for multi), a scale point, or a label."""
        numbers = [int(n) for n in re.findall(r"\d+", text)]
        choices = item.effective_choices()
        if item.type in ("scale", "number"):
            return Answer(numbers[0]) if numbers else None
        codes = [choices[n - 1].code for n in numbers if 1 <= n <= len(choices)]
        if not codes:
            codes = [c.code for c in choices if c.label.lower() == text.strip().lower()]
        if not codes:
            return None
        return Answer(codes) if item.type == "multi" else Answer(codes[0])

    async def start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        assert update.effective_chat is not None and context.user_data is not None
        context.user_data.clear()
        context.user_data.update(current=GATE, answers={})
        yes_no = [("Yes", f"{GATE}|yes"), ("No", f"{GATE}|no")]
        markup = InlineKeyboardMarkup(
            [[InlineKeyboardButton(t, callback_data=d)] for t, d in yes_no]
        )
        await context.bot.send_message(
            update.effective_chat.id, OPENER, reply_markup=markup, protect_content=True
        )
        return ASKING

    async def pressed(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        query = update.callback_query
        assert query is not None and query.data is not None and context.user_data is not None
        await query.answer()
        item_id, _, rest = query.data.partition("|")
        if item_id != context.user_data.get("current") or rest.endswith(("|+", "|-", "|done")):
            return ASKING  # a stale button, or a multi toggle: the walk does not move
        await query.edit_message_reply_markup(None)
        if item_id == GATE:
            return await self._ask_consent(update, context)
        if item_id == CONSENT:
            return await self._after(update, context, GATE, None)
        return await self._after(update, context, item_id, Answer(_typed(rest)))

    async def typed(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        assert update.message is not None and context.user_data is not None
        current = context.user_data.get("current", GATE)
        if current == GATE:
            return await self._ask_consent(update, context)
        if current == CONSENT:
            return await self._after(update, context, GATE, None)
        item = next(i for i in self.items if i.id == current)
        answer = self.parse_text(item, update.message.text or "")
        return await self._after(update, context, current, answer or Answer(None, skipped=True))

    async def _ask_consent(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        assert update.effective_chat is not None and context.user_data is not None
        context.user_data["current"] = CONSENT
        rows = [
            [InlineKeyboardButton(t, callback_data=f"{CONSENT}|{c}")] for t, c in CONSENT_ANSWERS
        ]
        await context.bot.send_message(
            update.effective_chat.id,
            m.CONSENT_ASK,
            reply_markup=InlineKeyboardMarkup(rows),
            protect_content=True,
        )
        return ASKING

    async def _after(
        self,
        update: Update,
        context: ContextTypes.DEFAULT_TYPE,
        item_id: str,
        answer: Answer | None,
    ) -> int:
        assert update.effective_chat is not None and context.user_data is not None
        answers: dict[str, Answer] = context.user_data["answers"]
        if answer is not None:
            answers[item_id] = answer
        chat = update.effective_chat.id
        if item_id == GATE:
            await context.bot.send_message(chat, HOW_TO, protect_content=True)
        item = self.next_item(item_id, answers)
        while item is not None and not item.answerable:  # info lines go out as they come
            await context.bot.send_message(chat, self._text(item), protect_content=True)
            item = self.next_item(item.id, answers)
        if item is None:
            await context.bot.send_message(chat, CLOSING, protect_content=True)
            return ConversationHandler.END
        context.user_data["current"] = item.id
        await context.bot.send_message(
            chat, self._text(item), reply_markup=keyboard(item), protect_content=True
        )
        return ASKING

    def _text(self, item: Item) -> str:
        return item.text.for_timepoint(TIMEPOINT, self.survey.periods)


def _typed(code: str) -> Any:
    return int(code) if code.lstrip("-").isdigit() else code


def _conversation(
    walk: PlainSurvey, steps: list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, object]]
) -> ConversationHandler[ContextTypes.DEFAULT_TYPE]:
    return ConversationHandler(
        entry_points=[CommandHandler("start", walk.start)],
        states={ASKING: steps},
        fallbacks=[CommandHandler("start", walk.start)],
        name="survey",
        persistent=True,
        per_message=False,
    )


def build_application(
    base_url: str, pickle_file: str, token: str
) -> Application[Any, Any, Any, Any, Any, Any]:
    walk = PlainSurvey(load_survey())
    steps: list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, object]] = [
        CallbackQueryHandler(walk.pressed),
        MessageHandler(filters.TEXT & ~filters.COMMAND, walk.typed),
    ]
    with warnings.catch_warnings():
        # Its note that per_message=False tracks callbacks per chat, not per message: intended.
        warnings.simplefilter("ignore", PTBUserWarning)
        conversation = _conversation(walk, steps)
    application = (
        ApplicationBuilder()
        .token(token)
        .base_url(base_url)
        .persistence(PicklePersistence(filepath=pickle_file))
        .build()
    )
    application.add_handler(conversation)
    return application


def main(argv: list[str]) -> None:
    base_url, pickle_file = argv
    application = build_application(base_url, pickle_file, os.environ["TELEGRAM_BOT_TOKEN"])
    application.run_polling(poll_interval=0.0, timeout=10, drop_pending_updates=False)


if __name__ == "__main__":
    main(sys.argv[1:])
