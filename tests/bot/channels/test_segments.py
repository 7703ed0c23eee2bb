"""The SMS segment counter against GSM 03.38: alphabet, limits, escapes, surrogates."""

from __future__ import annotations

import pytest

from bot.channels.segments import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    is_gsm7,
    measure,
    non_gsm7_characters,
    sms_segments,
)


def test_basic_set_has_127_characters_and_extension_9_plus_page_break() -> None:
    assert len(GSM7_BASIC) == 127  # 128 codes minus ESC
    assert len(GSM7_EXTENSION) == 10
    assert not GSM7_BASIC & GSM7_EXTENSION


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ("GSM-7", 1)),
        ("a" * 160, ("GSM-7", 1)),
        ("a" * 161, ("GSM-7", 2)),
        ("a" * 306, ("GSM-7", 2)),
        ("a" * 307, ("GSM-7", 3)),
        ("a" * 459, ("GSM-7", 3)),
        ("a" * 460, ("GSM-7", 4)),
        ("ü" * 70, ("GSM-7", 1)),
        ("á" * 70, ("UCS-2", 1)),
        ("á" * 71, ("UCS-2", 2)),
        ("á" * 134, ("UCS-2", 2)),
        ("á" * 135, ("UCS-2", 3)),
        ("á" * 201, ("UCS-2", 3)),
        ("á" * 202, ("UCS-2", 4)),
    ],
)
def test_limits_160_153_and_70_67(text: str, expected: tuple[str, int]) -> None:
    assert sms_segments(text) == expected


def test_extension_characters_cost_two_septets() -> None:
    assert sms_segments("€" * 80) == ("GSM-7", 1)  # 160 septets
    assert sms_segments("€" * 80 + "a") == ("GSM-7", 2)
    assert measure("[x]").units == 5


def test_escape_pair_is_never_split_between_segments() -> None:
    # 152 plain septets, then an escape pair: it does not fit in segment 1 (153), so it moves.
    text = "a" * 152 + "€" + "a" * 152
    assert measure(text).units == 306
    assert sms_segments(text) == ("GSM-7", 3)  # naive ceil(306 / 153) would say 2


def test_ucs2_counts_utf16_units_and_keeps_surrogate_pairs_whole() -> None:
    assert measure("🙂").units == 2
    assert sms_segments("🙂" * 35) == ("UCS-2", 1)  # 70 units
    text = "x" * 66 + "🙂" + "x" * 66  # 134 units; the pair cannot straddle units 67/68
    assert measure(text).units == 134
    assert sms_segments(text) == ("UCS-2", 3)


@pytest.mark.parametrize(
    ("character", "gsm"),
    [
        ("ä", True), ("ö", True), ("ü", True), ("ß", True), ("Ä", True), ("Ñ", True),
        ("é", True), ("è", True), ("ì", True), ("ò", True), ("ù", True), ("à", True),
        ("É", True), ("Ç", True), ("¿", True), ("¡", True), ("€", True), ("\n", True),
        ("ç", False), ("á", False), ("í", False), ("ó", False), ("ú", False),
        ("ê", False), ("â", False), ("ô", False), ("î", False), ("û", False),
        ("ë", False), ("ï", False), ("’", False), ("“", False), ("–", False), ("\u00a0", False),
    ],
)  # fmt: skip
def test_which_letters_of_our_languages_are_gsm7(character: str, gsm: bool) -> None:
    assert is_gsm7(character) is gsm
    assert sms_segments(f"x{character}")[0] == ("GSM-7" if gsm else "UCS-2")


def test_one_non_gsm_character_turns_the_whole_message_ucs2() -> None:
    text = "a" * 100 + "ç"
    assert sms_segments(text) == ("UCS-2", 2)
    assert non_gsm7_characters("Ça va? ça, ÇA, ’") == ["ç", "’"]


def test_capacity_helps_to_say_how_much_room_is_left() -> None:
    assert measure("hi").capacity == 160
    assert measure("a" * 200).capacity == 306
    assert measure("á" * 80).capacity == 134
