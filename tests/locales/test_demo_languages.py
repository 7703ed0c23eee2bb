"""``followup demo --language xx`` runs the whole survey in that language (a subprocess, piped).

German and Spanish are answered with WORDS only (labels, yes/no, skip and back in
her language, accents left out on purpose here and there); Italian and French with digits.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import load_config
from bot.crypto import load_or_create_keyring
from bot.store.db import Database
from bot.store.sessions import Answers

GERMAN = [
    "Ja", "bluebird",                       # gate, code word
    "Ja",                                   # still OK to ask (consent)
    "ja",                                   # safe_now
    "Nie", "zurück", "nie",                 # viol_physical, back, again
    "Nie", "Ein paar Mal", "einmal", "NIE",  # sexual, psychological, controlling, stalking
    "Nein", "nein", "Nein",                 # strangulation, threat to kill, weapon
    "Angst und Schlafprobleme",             # impact (multi, 'und')
    "nein",                                 # police
    "weiter",                               # fear (0-10): skipped in her words
    "Nein",                                 # fear_for_life
    "Überspringen",                         # feel_safe: skipped
    "An einzelnen Tagen", "UBERHAUPT NICHT", "beinahe jeden Tag",
    "an mehr als der Hälfte der Tage",      # PHQ-4
    "Ja", "Nie", "Nein", "nein", "Weiß ich nicht",  # children ...
    "Die Gewalt hört auf, Ich fühle mich sicher",   # hopes
    "Nein",                                 # wants_contact
]  # fmt: skip

SPANISH = [
    "sí", "bluebird",
    "sí",
    "Si",
    "nunca", "atrás", "Nunca",
    "Nunca", "algunas veces", "Una vez", "NUNCA",
    "no", "No", "no",
    "Miedo y problemas para dormir",
    "no",
    "saltar",
    "no",
    "Saltar",
    "varios dias", "Ningún día", "casi todos los dias", "Más de la mitad de los días",
    "sí", "nunca", "no", "no", "no lo se",
    "Que pare la violencia, sentirme segura",
    "no",
]  # fmt: skip

EXPECTED_WORDS = {
    "safe_now": "yes", "viol_physical": "never", "viol_psychological": "few_times",
    "viol_controlling": "once", "impact": ["afraid", "sleep_problems"], "fear": None,
    "feel_safe": None, "phq4_1": "several_days", "phq4_2": "not_at_all",
    "phq4_3": "nearly_every_day", "phq4_4": "more_than_half", "children": "yes",
    "child_protection": "dont_know", "hopes": ["violence_stops", "feel_safe"],
    "wants_contact": "no",
}  # fmt: skip


def demo(tmp_path: Path, language: str, lines: list[str]) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "followup.toml"
    config.write_text(
        f'[database]\npath = "{tmp_path / "f.db"}"\n[security]\nkey_file = "{tmp_path / "f.keys"}"\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOLLOWUP")}
    env.update(COLUMNS="200", PYTHONUTF8="1")
    return subprocess.run(
        [sys.executable, "-m", "bot", "demo", "--config", str(config), "--language", language],
        input="".join(f"{line}\n" for line in lines),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        env=env,
        check=False,
    )


def stored_answers(tmp_path: Path) -> dict[str, object]:
    async def read() -> dict[str, object]:
        config = load_config(tmp_path / "followup.toml", env={})
        ring, _ = load_or_create_keyring(Path(config.security.key_file))
        db = await Database.open(config.database.path)
        try:
            row = await db.fetchone("SELECT participant_id FROM answers LIMIT 1")
            assert row is not None
            answers = await Answers(db, ring).for_timepoint(row[0], "T0")
        finally:
            await db.close()
        return {k: (None if a.skipped else a.value) for k, a in answers.items()}

    return asyncio.run(read())


@pytest.mark.parametrize(
    ("language", "lines", "sample", "sorry"),
    [
        ("de", GERMAN, "Fühlen Sie sich gerade sicher?", "nicht verstanden"),
        ("es", SPANISH, "¿Se siente segura ahora mismo?", "no le he entendido"),
    ],
)
def test_whole_survey_answered_in_words(
    tmp_path: Path, language: str, lines: list[str], sample: str, sorry: str
) -> None:
    result = demo(tmp_path, language, lines)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert sample in result.stdout
    assert sorry not in result.stdout, "a word was not understood"
    assert "Session ended: completed" in result.stdout
    assert "WSS ALERT" not in result.stdout
    answers = stored_answers(tmp_path)
    for item_id, value in EXPECTED_WORDS.items():
        assert answers[item_id] == value, (language, item_id, answers[item_id])


@pytest.mark.parametrize(
    ("language", "gate", "sample", "closing"),
    [
        ("it", "sì", "In questo momento si sente al sicuro?", "per ora è tutto"),
        ("fr", "oui", "Vous sentez-vous en sécurité en ce moment ?", "c'est tout pour cette fois"),
    ],
)
def test_whole_survey_runs_with_digits(
    tmp_path: Path, language: str, gate: str, sample: str, closing: str
) -> None:
    result = demo(tmp_path, language, [gate, "bluebird", *["1"] * 40])
    assert result.returncode == 0, result.stderr
    assert sample in result.stdout and closing in result.stdout
    assert "Session ended: completed" in result.stdout
    assert "WSS ALERT" in result.stdout  # '1' = yes to the risk questions
    assert len(stored_answers(tmp_path)) > 20
