"""The shipped questionnaire: loads, covers DESIGN.md §7, fits SMS, keeps its ids."""

from __future__ import annotations

from importlib import resources

import pytest

from conversations.engine import Context
from conversations.loader import parse_survey
from conversations.survey import TIMEPOINTS, Survey

from .conftest import Driver, secrets

GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)


@pytest.fixture(scope="module")
def partner() -> Survey:
    text = resources.files("conversations").joinpath("surveys", "partner.yaml").read_text("utf-8")
    return parse_survey(text, "partner.yaml")


def test_domains_present_with_stable_ids(partner: Survey) -> None:
    ids = {i.id for i in partner.items}
    for required in (
        "safe_now",
        "viol_physical",
        "viol_sexual",
        "viol_psychological",
        "viol_controlling",
        "viol_stalking",
        "risk_strangulation",
        "risk_threat_kill",
        "risk_weapon",
        "impact",
        "police_called",
        "fear",
        "feel_safe",
        "phq4_1",
        "phq4_2",
        "phq4_3",
        "phq4_4",
        "children",
        "hopes",
        "hopes_met",
        "wants_contact",
    ):
        assert required in ids


def test_phq4_wording_and_attribution(partner: Survey) -> None:
    assert "Kroenke" in partner.attributions["phq4"]
    phrases = {
        "phq4_1": "Feeling nervous, anxious or on edge",
        "phq4_2": "Not being able to stop or control worrying",
        "phq4_3": "Little interest or pleasure in doing things",
        "phq4_4": "Feeling down, depressed, or hopeless",
    }
    for item_id, phrase in phrases.items():
        item = partner.item(item_id)
        assert item.attribution == "phq4"
        assert phrase in item.text.for_timepoint("T0", partner.periods)
        assert [c.label for c in item.choices] == [
            "Not at all",
            "Several days",
            "More than half the days",
            "Nearly every day",
        ]


def test_risk_rules_cover_design_levels(partner: Survey) -> None:
    reasons = {r.reason: r.level for i in partner.items for r in i.risk}
    assert reasons["strangulation"] == "URGENT"
    assert reasons["threat_to_kill"] == "URGENT"
    assert reasons["weapon"] == "URGENT"
    assert reasons["fear_for_life"] == "URGENT"
    assert reasons["not_safe_wants_help"] == "URGENT"
    assert reasons["new_physical_violence"] == "HIGH"
    assert reasons["new_sexual_violence"] == "HIGH"
    assert reasons["police_called"] == "HIGH"
    assert reasons["children_harmed"] == "HIGH"
    assert reasons["contact_request"] == "ROUTINE"


def test_hopes_by_timepoint(partner: Survey) -> None:
    assert partner.item("hopes").timepoints == {"T0", "T1"}
    assert partner.item("hopes_met").timepoints == {"T2", "T3", "T4"}


def test_all_text_is_gsm7(partner: Survey) -> None:
    for item in partner.items:
        texts = item.text.all_texts() + [c.label for c in item.choices] + list(item.labels.values())
        for text in texts:
            bad = set(text) - GSM7
            assert not bad, f"{item.id}: non-GSM-7 characters {bad!r} in {text!r}"


@pytest.mark.parametrize("timepoint", TIMEPOINTS)
def test_skipping_everything_completes_every_timepoint(partner: Survey, timepoint: str) -> None:
    d = Driver(partner, Context(secrets=secrets(), free_text=True), timepoint=timepoint)
    d.to_questions()
    for _ in range(60):
        if d.state.phase == "ended":
            break
        d.say("skip")
    assert d.state.outcome == "completed"
