"""What the engine knows about her beyond the survey: secrets, words, programme settings.

Built by the shell for each step; the engine only reads it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from conversations.lexicon import Lexicon
from conversations.secrets import SecretWords
from conversations.vocabulary import ParticipantStatus

#: Statuses in which the safe word pauses her and a decoy line may reach her.
_REACHABLE = frozenset({ParticipantStatus.ACTIVE, ParticipantStatus.PAUSED})


@dataclass(frozen=True)
class Context:
    """What the engine knows about her beyond the survey: secrets, words, programme settings."""

    secrets: SecretWords = field(default_factory=lambda: SecretWords(""))
    lexicon: Lexicon = field(default_factory=Lexicon)
    free_text: bool = False
    decoy: bool = True
    max_code_tries: int = 3
    tries_before_skip_offer: int = 3
    #: Her participant status: only an active or paused woman is paused by the safe word or
    #: sent a decoy line; opted out or withdrawn stays so (DESIGN.md §1.7).
    status: ParticipantStatus = ParticipantStatus.ACTIVE

    @property
    def reachable(self) -> bool:
        return self.status in _REACHABLE
