"""Babel extractor for survey YAML: item texts, hints, choice labels and scale labels.

Registered as the ``followup_survey`` extractor (see ``babel.cfg``), so one
``pybabel extract`` yields a single catalog for code and surveys.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from conversations.loader import parse_survey


def survey_messages(text: str, source: str) -> Iterator[tuple[str, str]]:
    """(msgid, comment) for every translatable string of a survey, in file order."""
    survey = parse_survey(text, source)
    for item in survey.items:
        note = f"survey {survey.id}, item {item.id}"
        if item.attribution:
            note += f" ({item.attribution}: use the official translation)"
        for variant in item.text.all_texts():
            yield variant, note
        if item.hint is not None:
            for variant in item.hint.all_texts():
                yield variant, f"{note} (hint)"
        for choice in item.choices:
            yield choice.label, f"{note}, choice {choice.code}"
        for value, label in sorted(item.labels.items()):
            yield label, f"{note}, scale label {value}"


def extract_survey(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, str, str, list[str]]]:
    """Babel extraction-method signature: (lineno, funcname, message, comments)."""
    text = fileobj.read().decode("utf-8")
    lines = text.splitlines()
    for msgid, note in survey_messages(text, getattr(fileobj, "name", "<survey>")):
        first = msgid.splitlines()[0] if msgid else msgid
        lineno = next((n for n, line in enumerate(lines, 1) if first[:40] in line), 0)
        yield lineno, "", msgid, [note]
