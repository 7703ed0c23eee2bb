"""Enrolment rules shared by every way in (CLI, dashboard): secret words that cannot collide.

A safe word must never be a carrier keyword, a digit, a command or an answer
word (DESIGN.md §1.1), or an ordinary reply would wipe her session.
"""

from __future__ import annotations

from datetime import date, datetime

from bot.config import Config
from bot.schedule.plans import DateError, replan_participant
from bot.schedule.settings import SettingsError, rules_for
from bot.store.consent import Consent, record_consent
from bot.store.housekeeping import audit
from bot.store.participants import NewParticipant, Participant
from bot.store.stores import Stores
from bot.text.i18n import available_languages
from bot.text.words import lexicon_for
from conversations.lexicon import CARRIER_KEYWORDS
from conversations.survey import Survey
from conversations.text import MAX_SECRET_LENGTH, secret_form, secret_forms, skeleton_words, tokens
from scheduler.windows import WindowError, parse_windows, validate_windows

MIN_SECRET_LENGTH = 4


class EnrolmentError(ValueError):
    """A value given at enrolment is not acceptable; nothing was stored."""


_RESERVED: dict[tuple[int, tuple[str, ...]], frozenset[str]] = {}


def _reserved(survey: Survey, languages: tuple[str, ...]) -> frozenset[str]:
    """Cached per survey object: enrolling 100,000 partners must not rebuild it each time."""
    key = (id(survey), languages)
    if key not in _RESERVED:
        _RESERVED[key] = frozenset(reserved_words(survey, list(languages)))
    return _RESERVED[key]


def reserved_words(survey: Survey, languages: list[str]) -> set[str]:
    """Every word an ordinary reply could contain, in every shipped language.

    Secret words are also found split over neighbouring words, so every run of words
    of a phrase counts too ('go on' -> 'goon', 'stop all' -> 'stopall').
    """
    phrases = set(CARRIER_KEYWORDS) | survey.answer_words()
    for language in languages:
        lexicon = lexicon_for(language)
        for group in lexicon.keywords.values():
            phrases.update(group)
        for item in survey.items:
            for choice in item.effective_choices():
                phrases.add(choice.label)
                phrases.add(lexicon.translate(choice.label))
    words: set[str] = set()
    for phrase in phrases:
        words.update(tokens(phrase))
        words.update(secret_forms(phrase))
    return words


def check_secret_words(
    survey: Survey, safe: str | None, code: str | None, duress: str | None
) -> None:
    """Refuse secret words that are not one word, too short, reserved, or equal to each other."""
    given = {"safe word": safe, "code word": code, "duress word": duress}
    reserved = _reserved(survey, tuple(available_languages()))
    folded: dict[str, str] = {}
    for name, word in given.items():
        if word is None:
            continue
        if len(skeleton_words(word)) != 1:
            raise EnrolmentError(f"the {name} must be a single word")
        value = secret_form(word)
        if value.isdigit() or len(value) < MIN_SECRET_LENGTH:
            raise EnrolmentError(
                f"the {name} must have at least {MIN_SECRET_LENGTH} letters and not be a number"
            )
        if len(value) > MAX_SECRET_LENGTH:
            raise EnrolmentError(f"the {name} must have at most {MAX_SECRET_LENGTH} letters")
        if {value, "".join(skeleton_words(word, capitals_first=True))} & reserved:
            raise EnrolmentError(
                f"the {name} '{word}' is also a reply or carrier keyword; choose another word"
            )
        folded[name] = value
    values = list(folded.values())
    if len(set(values)) != len(values):
        raise EnrolmentError("the safe word, code word and duress word must all differ")


async def enrol(
    stores: Stores,
    config: Config,
    survey: Survey,
    *,
    programme_id: int,
    channel: str,
    language: str,
    timezone: str,
    today: date,
    now: datetime,
    consent: Consent | None,
    address: str | None = None,
    safe_word: str | None = None,
    code_word: str | None = None,
    duress_word: str | None = None,
    windows: str = "",
    start_on: date | None = None,
    end_on: date | None = None,
    actor: str = "staff",
) -> Participant:
    """Validate and store a new participant, her consent and T0–T4 planned; one transaction.

    Without a consent record nothing is stored: no contact may ever be made without one.
    """
    if consent is None:
        raise EnrolmentError(
            "a consent record is required (consent text version, date, who recorded it)"
        )
    if consent.consented_on > today:
        raise EnrolmentError(f"the consent date {consent.consented_on} is in the future")
    check_secret_words(survey, safe_word, code_word, duress_word)
    if language not in available_languages():
        raise EnrolmentError(
            f"no catalog for language '{language}' (have: {', '.join(available_languages())})"
        )
    try:
        rules = rules_for(config, await stores.programmes.get(programme_id))
    except SettingsError as exc:
        raise EnrolmentError(f"programme settings: {exc}") from None
    try:
        if windows:
            validate_windows(parse_windows(windows), rules.quiet)
    except WindowError as exc:
        raise EnrolmentError(f"--window: {exc}") from None
    new = NewParticipant(
        programme_id=programme_id,
        channel=channel,
        language=language,
        timezone=timezone,
        enrolled_on=today,
        address=address,
        windows=windows,
        safe_word=safe_word,
        code_word=code_word,
        duress_word=duress_word,
        start_on=start_on,
        end_on=end_on,
    )
    try:
        async with stores.db.transaction() as tx:
            participant = await stores.participants.create(tx, new, now)
            await record_consent(tx, participant.id, consent, now)
            await replan_participant(tx, participant.id, rules.offsets)
            await audit(tx, now, actor, "participant_enrolled", participant.pseudonym, channel)
    except DateError as exc:
        raise EnrolmentError(str(exc)) from None
    return participant
