"""A message too long for its channel is cut at line boundaries, in order, buttons last."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.channels.base import STAFF_ALERT_KIND, Button, Rendered
from bot.channels.segments import SMS_MAX_SEGMENTS, sms_segments
from bot.channels.split import (
    BUDGETS,
    TELEGRAM_MAX_TEXT,
    parts,
    sms_fits,
    split_text,
    telegram_length,
)

KEYS = (Button("Yes", "q|yes"), Button("No", "q|no"))


def test_a_message_that_fits_is_sent_as_it_is_on_every_channel() -> None:
    message = Rendered("Line one\n\nLine two", KEYS, item_id="q", kind="question")
    for channel in ("telegram", "sms", "console", "anything"):
        assert parts(channel, message) == (message,)


def test_the_console_never_splits() -> None:
    message = Rendered("x" * 20_000)
    assert parts("console", message) == (message,)


def test_telegram_splits_at_a_line_boundary_with_the_keyboard_on_the_last_part() -> None:
    intro = "\n".join(f"intro line {n} " + "x" * 90 for n in range(30))  # ~3,100 chars
    text = f"{intro}\n\n{'y' * 1500}\nAre you safe?"
    message = Rendered(text, KEYS, multi=True, item_id="q", kind="question")
    first, last = parts("telegram", message)
    assert first.text == intro  # cut at the blank line, which is dropped
    assert last.text == f"{'y' * 1500}\nAre you safe?"
    assert first.buttons == () and not first.multi
    assert last.buttons == KEYS and last.multi and last.item_id == "q"
    assert first.kind == last.kind == "question"
    assert all(telegram_length(p.text) <= TELEGRAM_MAX_TEXT for p in (first, last))


def test_telegram_counts_utf16_units_like_the_bot_api() -> None:
    assert telegram_length("🙂") == 2
    text = "🙂" * 2048 + "\nnext"  # 4,096 units on the first line
    first, last = parts("telegram", Rendered(text))
    assert first.text == "🙂" * 2048 and last.text == "next"


def test_a_line_over_telegram_s_limit_is_cut_at_a_space() -> None:
    words = " ".join(f"word{n:04d}" for n in range(1000))  # 8,999 chars, one line
    pieces = parts("telegram", Rendered(words, KEYS))
    assert len(pieces) == 3
    assert " ".join(p.text for p in pieces) == words
    assert [p.buttons for p in pieces] == [(), (), KEYS]
    assert all(telegram_length(p.text) <= TELEGRAM_MAX_TEXT for p in pieces)


def test_sms_splits_into_parts_of_at_most_two_segments_in_order() -> None:
    how_to = "Reply SKIP to skip a question, BACK to go back, or LATER to stop for now."
    intro = "Thank you. This takes about 5 minutes. You can skip any question. " * 3
    question = "In the last 12 months, has he pushed, slapped or hit you?\n1 Never\n2 Once"
    text = f"{how_to}\n\n{intro.strip()}\n\n{question}"
    assert sms_segments(text)[1] > SMS_MAX_SEGMENTS
    pieces = parts("sms", Rendered(text, item_id="viol_physical", kind="question"))
    assert len(pieces) == 2
    assert pieces[0].text == f"{how_to}\n\n{intro.strip()}"
    assert pieces[1].text == question
    assert all(sms_segments(p.text)[1] <= SMS_MAX_SEGMENTS for p in pieces)


def test_a_staff_alert_over_sms_stays_one_message() -> None:
    alert = Rendered("URGENT alert E-2345X\n" + "Reasons: x y z\n" * 30, kind=STAFF_ALERT_KIND)
    assert not sms_fits(alert.text)
    assert parts("sms", alert) == (alert,)
    assert len(parts("telegram", Rendered("x\n" * 3000, kind=STAFF_ALERT_KIND))) == 2


def test_sms_never_cuts_inside_a_line() -> None:
    """A line over the budget alone stays whole: SMS concatenates it, as it did before."""
    long_line = "Ж" * 250  # UCS-2, 4 segments
    pieces = parts("sms", Rendered(f"short\n{long_line}\nend"))
    assert [p.text for p in pieces] == ["short", long_line, "end"]


@given(
    st.lists(
        st.text(st.characters(blacklist_characters="\n"), max_size=700), min_size=1, max_size=30
    )
)
def test_telegram_parts_keep_every_line_in_order(lines: list[str]) -> None:
    text = "\n".join(lines)
    pieces = split_text(text, BUDGETS["telegram"])
    assert all(telegram_length(p) <= TELEGRAM_MAX_TEXT for p in pieces)
    assert "".join("".join(pieces).split()) == "".join(text.split())


@given(st.lists(st.text(alphabet="abc XYZ1é", max_size=200), min_size=1, max_size=12))
def test_sms_parts_keep_every_line_in_order(lines: list[str]) -> None:
    text = "\n".join(lines)
    pieces = split_text(text, BUDGETS["sms"])
    kept = [line for line in "\n".join(pieces).split("\n") if line]
    assert kept == [line for line in lines if line]
    for piece in pieces:
        assert sms_fits(piece) or "\n" not in piece


def test_sms_allows_three_segments_where_the_text_needs_ucs2() -> None:
    """DESIGN.md §4: 2 GSM-7 segments where the language allows, UCS-2 may take 3."""
    assert sms_fits("a" * 306) and not sms_fits("a" * 307)
    assert sms_fits("Ж" * 201) and not sms_fits("Ж" * 202)
    choices = "Ces 2 dernières semaines ?\n" + "\n".join(
        f"{n} Réponse longue Ж" for n in range(1, 9)
    )
    assert sms_segments(choices) == ("UCS-2", 3)
    assert parts("sms", Rendered(choices)) == (Rendered(choices),)  # not cut inside its list


def test_paragraphs_stay_whole_where_they_can() -> None:
    """A question and its numbered choices stay together when the cut can go before them."""
    how_to = "Reply SKIP to skip a question, BACK to go back, or LATER to stop for now."
    intro = "Thank you. " * 16
    question = "Did he threaten you?\n" + "\n".join(f"{n} Choice {n}" for n in range(1, 6))
    text = f"{how_to}\n\n{intro.strip()}\n\n{question}"
    assert sms_fits(f"{how_to}\n\n{intro.strip()}\n\nDid he threaten you?")  # a line cut fits
    pieces = [p.text for p in parts("sms", Rendered(text))]
    assert pieces == [f"{how_to}\n\n{intro.strip()}", question]
