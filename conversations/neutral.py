"""Words that give her away: per-locale stems no neutral line may contain (DESIGN.md §1.2).

Each locale's stems (violence, abuse, partner, programme, police, support service,
perpetrator, domestic... with their inflections and compounds) are matched as
substrings of the folded text, with and without spaces, so 'häusliche',
'Täterprogramm', 'maltrattamenti' or 'policía' are all caught. Used by the locale
tests on every line she sees before the gate, and on a programme's sender name.
"""

from __future__ import annotations

from conversations.text import fold

#: Stems per language, already folded (lower case, no accents).
DENY: dict[str, tuple[str, ...]] = {
    "en": (
        "violen", "abus", "partner", "programme", "program", "police", "support", "perpetrator",
        "domestic", "victim", "shelter", "refuge", "helpline", "counsel", "survey",
        "questionnaire", "danger", "safe", "afraid", "fear", "hurt", "assault", "women", "threat",
    ),
    "de": (
        "gewalt", "missbrauch", "misshandl", "partner", "programm", "polizei", "beratung",
        "unterstutz", "hilfe", "hilfs", "tater", "hauslich", "opfer", "frauenhaus", "schutz",
        "notruf", "gefahr", "angst", "sicher", "verletz", "bedroh", "umfrage", "fragebogen",
        "befragung", "ubergriff", "trennung",
    ),
    "es": (
        "violen", "maltrat", "abus", "agres", "pareja", "program", "polic", "apoyo", "ayuda",
        "victim", "domestic", "genero", "refugio", "encuesta", "cuestionario", "peligro",
        "miedo", "segur", "denunci", "lesion", "dano", "amenaz", "golpe", "maltratador",
    ),
    "it": (
        "violen", "abus", "maltratt", "partner", "compagn", "programm", "polizi", "carabinier",
        "supporto", "sostegno", "aiuto", "vittim", "domestic", "questionario", "sondaggio",
        "pericol", "paura", "sicur", "denunc", "minacc", "autore", "maltrattante",
    ),
    "fr": (
        "violen", "maltrait", "abus", "partenaire", "conjoint", "compagnon", "programm",
        "police", "gendarm", "soutien", "aide", "victime", "domestique", "conjugal", "auteur",
        "refuge", "questionnaire", "enquete", "sondage", "danger", "peur", "securit", "plainte",
        "menace", "agress",
    ),
}  # fmt: skip


def revealing(text: str, language: str) -> list[str]:
    """The stems of ``language`` found in ``text`` (empty: nothing gives her away)."""
    folded = fold(text).replace(" ", "")
    spaced = fold(text)
    return [stem for stem in DENY[language] if stem in folded or stem in spaced]


def revealing_in_any(text: str) -> list[tuple[str, str]]:
    """(language, stem) for every locale's stem in ``text``: a name is seen in all of them."""
    return [(language, stem) for language in DENY for stem in revealing(text, language)]
