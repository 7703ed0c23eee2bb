"""Every system line the engine can send, as gettext msgids.

Marked with ``N_`` so ``pybabel extract`` finds them; the shell translates
them in her language. Lines sent before she confirms it is safe to talk
(openers, reminders, resume, decoy, snooze) must stay neutral (DESIGN.md §1.2):
``NEUTRAL`` lists them and a test holds every translation against a deny-list.
"""

from __future__ import annotations


def N_(message: str) -> str:
    """Mark a string for extraction without translating it here."""
    return message


# Translators: first message of every contact; anyone may read it.
# Keep it neutral: no word of violence, partner, programme, police,
# support or survey. {sender} is a first name.
OPENER = N_("Hi, it's {sender}. Is now a good time for a short chat?")
REMINDER = N_("Hi, it's {sender} again. Is now a good time for a short chat?")
RESUME = N_("Hi, it's {sender}. Is now a good time to carry on where we left off?")
YES_NOW = N_("Yes")
NOT_NOW = N_("Not now")
GATE_AGAIN = N_("Sorry, I didn't get that. Is now a good time?")
SNOOZE_ASK = N_("No problem. When would suit you better?")
LATER_TODAY = N_("Later today")
TOMORROW = N_("Tomorrow")
NEXT_WEEK = N_("Next week")
SNOOZE_OK = N_("Thanks. Talk soon.")
# Translators: {day} is a day, e.g. "Tuesday 3 March". Neutral line.
SNOOZE_OK_DAY = N_("Thanks. Talk again on {day}.")
SNOOZE_AGAIN = N_("Sorry, I didn't get that. When would suit you better?")
DECOY = N_("OK, thanks. Have a nice day!")
LOCKED = N_("Sorry, we can't go on right now. Bye for now.")

# Translators: asked at every contact, after "is now a good time" (and the code word),
# before any question. Neutral: anyone may read it. Answers: Yes / Not this time / Stop for good.
CONSENT_ASK = N_("Is it still OK to ask you a few questions?")
NOT_THIS_TIME = N_("Not this time")
# Translators: the answer that ends every future contact too (a withdrawal). Neutral.
STOP_FOR_GOOD = N_("Stop for good")
CONSENT_AGAIN = N_("Sorry, I didn't get that. Is it still OK to ask you a few questions?")
CONSENT_NOT_THIS_TIME = N_("OK, no questions this time. Thank you, take care.")

CODE_ASK = N_("Please type your code word.")
CODE_WRONG = N_("That's not it. Please try again.")
# Translators: SKIP, BACK and LATER must be in your keyword lists
# "skip", "back" and "later"; keep them in capitals.
HOW_TO = N_("Reply SKIP to skip a question, BACK to go back, or LATER to stop for now.")
REPROMPT_CHOICE = N_("Sorry, I didn't get that. Please reply with a number from the list.")
REPROMPT_MULTI = N_(
    "Sorry, I didn't get that. Please reply with one or more numbers from the list."
)
REPROMPT_EXCLUSIVE = N_("'{label}' can't be combined with other answers. Please choose again.")
REPROMPT_NUMBER = N_("Sorry, I didn't get that. Please reply with a number from {min} to {max}.")
REPROMPT_TEXT = N_("Sorry, I didn't get that. Please type your answer.")
# Translators: SKIP must be in your "skip" keyword list.
OFFER_SKIP = N_("You can also reply SKIP to move on.")
FIRST_QUESTION = N_("This is the first question.")
MULTI_HINT = N_("You can choose more than one, for example: 1 3")
#: MULTI_HINT where choices are buttons (Telegram): tick them, then press DONE.
MULTI_HINT_BUTTONS = N_("You can choose more than one, then press Done.")
DONE = N_("Done")
LATER_OK = N_("OK, we'll stop here for now. Send any message when you want to carry on.")
CLOSING = N_("Thank you, that's all for now. Take care.")
HELP = N_("If you are in danger now, call {emergency}. You can also call {helpline}.")
HELP_GO_ON = N_("Would you like to go on with the questions?")
GO_ON = N_("Yes, go on")
STOP_NOW = N_("Stop for now")
HELP_AGAIN = N_("Sorry, I didn't get that. Would you like to go on?")
STOPPED = N_("OK. Thank you, take care.")

#: Lines that may be seen before she has said it is safe to talk.
NEUTRAL: tuple[str, ...] = (
    OPENER,
    REMINDER,
    RESUME,
    YES_NOW,
    NOT_NOW,
    GATE_AGAIN,
    SNOOZE_ASK,
    LATER_TODAY,
    TOMORROW,
    NEXT_WEEK,
    SNOOZE_OK,
    SNOOZE_OK_DAY,
    SNOOZE_AGAIN,
    DECOY,
    LOCKED,
    CODE_ASK,
    CODE_WRONG,
    CONSENT_ASK,
    NOT_THIS_TIME,
    STOP_FOR_GOOD,
    CONSENT_AGAIN,
    CONSENT_NOT_THIS_TIME,
    CLOSING,
)

SCALE_HINT = N_("Reply a number from {min} ({min_label}) to {max} ({max_label}).")
NUMBER_HINT = N_("Reply a number from {min} to {max}.")
