"""Render the engine's language-neutral messages for one channel in her language.

``numbered`` (SMS, console) lists choices as "1 Yes"; ``buttons`` (Telegram)
puts them on buttons whose data is ``item|code`` so old buttons can be told apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.channels.base import Button, Rendered
from bot.channels.segments import SMS_MAX_SEGMENTS, sms_segments
from bot.text.i18n import Translator
from conversations import messages as m
from conversations.effects import Line, Outgoing
from conversations.vocabulary import MessageKind

#: Numbered messages go out as SMS: at most this many segments where the language allows.
NUMBERED_MAX_SEGMENTS = SMS_MAX_SEGMENTS
#: What a reprompt must keep; the question itself was just asked and may be left out.
_REPROMPT_LINES = frozenset(
    {
        m.REPROMPT_CHOICE,
        m.REPROMPT_MULTI,
        m.REPROMPT_EXCLUSIVE,
        m.REPROMPT_NUMBER,
        m.REPROMPT_TEXT,
        m.OFFER_SKIP,
    }
)


@dataclass(frozen=True)
class ProgrammeWords:
    """Programme details that fill the system lines' placeholders."""

    sender: str
    emergency: str
    helpline: str


#: Line parameters whose value is itself a msgid (a choice label) and is shown translated.
LABEL_PARAMS = frozenset({"label", "min_label", "max_label"})


def _translated(params: Mapping[str, str | int], tr: Translator) -> dict[str, str | int]:
    return {
        key: tr.gettext(value) if key in LABEL_PARAMS and isinstance(value, str) else value
        for key, value in params.items()
    }


def render(message: Outgoing, style: str, tr: Translator, words: ProgrammeWords) -> Rendered:
    rendered = _render(message, style, tr, words, message.lines)
    if style == "numbered" and message.kind == MessageKind.REPROMPT and _too_long(rendered.text):
        # "Sorry, I didn't get that" + the choices reads naturally under the question just sent.
        kept = tuple(line for line in message.lines if line.msgid in _REPROMPT_LINES)
        rendered = _render(message, style, tr, words, kept)
    return rendered


def _too_long(text: str) -> bool:
    return sms_segments(text)[1] > NUMBERED_MAX_SEGMENTS


def _render(
    message: Outgoing, style: str, tr: Translator, words: ProgrammeWords, source: tuple[Line, ...]
) -> Rendered:
    params = {"sender": words.sender, "emergency": words.emergency, "helpline": words.helpline}
    lines = [
        ("\n" if line.paragraph and n else "")
        + tr.format(_for_style(line.msgid, style), {**params, **_translated(line.params, tr)})
        for n, line in enumerate(source)
    ]
    buttons: tuple[Button, ...] = ()
    item = message.item_id or ""
    if message.scale is not None:
        scale = message.scale
        if scale.min_label and scale.max_label:
            lines.append(
                tr.format(
                    m.SCALE_HINT,
                    {
                        "min": scale.minimum,
                        "max": scale.maximum,
                        "min_label": tr.gettext(scale.min_label),
                        "max_label": tr.gettext(scale.max_label),
                    },
                )
            )
        else:
            lines.append(tr.format(m.NUMBER_HINT, {"min": scale.minimum, "max": scale.maximum}))
        if style == "buttons" and scale.maximum - scale.minimum <= 10:
            buttons = tuple(
                Button(str(n), f"{item}|{n}") for n in range(scale.minimum, scale.maximum + 1)
            )
    elif message.choices:
        labels = [tr.gettext(choice.label) for choice in message.choices]
        if style == "buttons":
            buttons = tuple(
                Button(label, f"{item}|{choice.code}")
                for label, choice in zip(labels, message.choices, strict=True)
            )
            if message.answer == "multi":
                buttons += (Button(tr.gettext(m.DONE), f"{item}||done"),)
        else:
            lines.append("\n".join(f"{n} {label}" for n, label in enumerate(labels, start=1)))
    return Rendered(
        text="\n".join(lines),
        buttons=buttons,
        multi=message.answer == "multi",
        item_id=message.item_id,
        kind=message.kind,
    )


def _for_style(msgid: str, style: str) -> str:
    """Lines that describe how to answer differ where choices are buttons."""
    if style == "buttons" and msgid == m.MULTI_HINT:
        return m.MULTI_HINT_BUTTONS
    return msgid
