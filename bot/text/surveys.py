"""Load the configured survey file (default: the packaged partner questionnaire)."""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path

from conversations.loader import parse_survey
from conversations.survey import Survey

DEFAULT_SURVEY = "partner.yaml"


@functools.cache
def load_survey(path: str = "") -> Survey:
    """Parse and validate; raises ``SurveyError`` naming the file and item on any problem."""
    if path:
        file = Path(path)
        return parse_survey(file.read_text(encoding="utf-8"), str(file))
    text = resources.files("conversations").joinpath("surveys", DEFAULT_SURVEY).read_text("utf-8")
    return parse_survey(text, DEFAULT_SURVEY)
