"""iso/parse_iso: the fast forms write and read exactly what the strftime/strptime forms did."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.clock import iso, parse_iso

FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
moments = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(9998, 12, 30),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))]),
)  # fmt: skip


@given(moments)
def test_iso_is_the_strftime_text_and_reads_back(moment: datetime) -> None:
    text = iso(moment)
    assert text == moment.astimezone(UTC).strftime(FORMAT)
    assert parse_iso(text) == moment
    assert parse_iso(text).tzinfo is UTC


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-24 10:00:00.000000Z",  # space, not T
        "2026-11-24T10:00:00,000000Z",  # comma fraction (fromisoformat would take it)
        "2026-11-24T10:00:00.0+0000Z",  # an offset inside
        "2026-11-24T10:00:00.000000",  # no Z
        "2026-11-24T25:00:00.000000Z",
        "",
    ],
)
def test_parse_iso_refuses_what_strptime_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        datetime.strptime(text, FORMAT)
    with pytest.raises(ValueError):
        parse_iso(text)
