"""Measured SMS sizes per locale: ``python -m tests.locales.support_sms_report`` prints the README table."""

from __future__ import annotations

from dataclasses import dataclass

from bot.channels.segments import measure
from tests.locales.support_locales import LANGUAGES, Sms, rendered, reprompt_messages, sms_messages


@dataclass(frozen=True)
class Row:
    what: str
    encoding: str
    units: int
    segments: int


def _row(sms: Sms) -> Row:
    size = measure(sms.text)
    return Row(sms.what, size.encoding, size.units, size.segments)


def _worst(rows: list[Row]) -> Row:
    return max(rows, key=lambda r: (r.segments, r.encoding == "UCS-2", r.units))


def worst(language: str) -> Row:
    """The costliest survey item or system line of ``language``."""
    return _worst([_row(sms) for sms in sms_messages(language)])


def report() -> str:
    lines = [
        "| locale | messages | UCS-2 | worst message | encoding | units | segments | worst re-ask |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for language in LANGUAGES:
        rows = [_row(sms) for sms in sms_messages(language)]
        top = _worst(rows)
        again = _worst([_row(sms) for sms in rendered(language, reprompt_messages())])
        ucs2 = sum(r.encoding == "UCS-2" for r in rows)
        lines.append(
            f"| {language} | {len(rows)} | {ucs2} | {top.what} | {top.encoding} | {top.units}"
            f" | {top.segments} | {again.segments} ({again.encoding}, {again.what}) |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(report())
