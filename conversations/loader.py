"""Read and validate a survey file, reporting every problem with file and item.

A survey with any error is refused whole: half a questionnaire must never
reach a participant.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import yaml

from conversations.conditions import (
    COMPARISONS,
    AllOf,
    AnyOf,
    Compare,
    Condition,
    Not,
    referenced_items,
)
from conversations.survey import (
    ITEM_TYPES,
    LEVELS,
    TIMEPOINTS,
    Choice,
    Item,
    RiskRule,
    Survey,
    Wording,
)

_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_CODE = re.compile(r"^[a-z0-9_]*[a-z_][a-z0-9_]*$")
_TOP_KEYS = {"survey", "version", "title", "periods", "attributions", "items"}
_ITEM_KEYS = {
    "id",
    "type",
    "text",
    "hint",
    "timepoints",
    "when",
    "choices",
    "min",
    "max",
    "labels",
    "exclusive",
    "risk",
    "attribution",
}
_CHOICE_TYPES = ("single", "multi")
_RANGE_TYPES = ("scale", "number")


class SurveyError(ValueError):
    """All problems found in one survey file, one per line."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__("\n".join(f"{source}: {p}" for p in problems))


class _Checker:
    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[str] = []

    def fail(self, where: str, what: str) -> None:
        self.problems.append(f"{where}: {what}" if where else what)


def parse_survey(text: str, source: str = "<survey>") -> Survey:
    """Parse YAML text into a ``Survey``; raise ``SurveyError`` listing every problem."""
    check = _Checker(source)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else ""
        raise SurveyError(
            source, [f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})"]
        ) from None
    if not isinstance(data, dict):
        raise SurveyError(source, ["the file must be a mapping with 'survey' and 'items'"])
    for key in sorted(set(data) - _TOP_KEYS):
        check.fail("", f"unknown key '{key}'")
    survey_id = data.get("survey")
    if not isinstance(survey_id, str) or not _ID.match(survey_id):
        check.fail("", "'survey' must be a snake_case id")
    version = data.get("version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        check.fail("", "'version' must be a positive whole number")
    periods = _parse_periods(data.get("periods") or {}, check)
    attributions = data.get("attributions") or {}
    if not isinstance(attributions, dict) or not all(
        isinstance(v, str) for v in attributions.values()
    ):
        check.fail("", "'attributions' must map names to text")
        attributions = {}
    raw_items = data.get("items")
    if not isinstance(raw_items, list) or not raw_items:
        check.fail("", "'items' must be a non-empty list")
        raw_items = []
    items: list[Item] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_items):
        item = _parse_item(raw, index, seen, periods, attributions, check)
        if item is not None:
            items.append(item)
            seen.add(item.id)
    if check.problems:
        raise SurveyError(source, check.problems)
    return Survey(
        id=str(survey_id),
        version=int(version),
        title=str(data.get("title") or survey_id),
        items=tuple(items),
        periods=periods,
        attributions=dict(attributions),
    )


def _parse_periods(raw: Any, check: _Checker) -> dict[str, frozenset[str]]:
    if not isinstance(raw, dict):
        check.fail("", "'periods' must map names to lists of timepoints")
        return {}
    periods: dict[str, frozenset[str]] = {}
    for name, members in raw.items():
        if not isinstance(name, str) or not _ID.match(name) or name in TIMEPOINTS:
            check.fail("", f"period name '{name}' must be a snake_case word")
            continue
        if not isinstance(members, list) or not set(members) <= set(TIMEPOINTS):
            check.fail("", f"period '{name}' must list timepoints among {', '.join(TIMEPOINTS)}")
            continue
        periods[name] = frozenset(members)
    return periods


def _parse_item(
    raw: Any,
    index: int,
    earlier: set[str],
    periods: Mapping[str, frozenset[str]],
    attributions: Mapping[str, str],
    check: _Checker,
) -> Item | None:
    if not isinstance(raw, dict):
        check.fail(f"item #{index + 1}", "must be a mapping")
        return None
    item_id = raw.get("id")
    if not isinstance(item_id, str) or not _ID.match(item_id):
        check.fail(f"item #{index + 1}", f"'id' must be a snake_case id, got {item_id!r}")
        return None
    where = f"item {item_id}"
    before = len(check.problems)
    if item_id in earlier:
        check.fail(where, "duplicate id")
    for key in sorted(set(raw) - _ITEM_KEYS):
        check.fail(where, f"unknown key '{key}'")
    kind = raw.get("type")
    if kind not in ITEM_TYPES:
        check.fail(where, f"unknown type {kind!r} (expected one of {', '.join(ITEM_TYPES)})")
        return None
    text = _parse_wording(raw.get("text"), "text", where, periods, check, required=True)
    hint = _parse_wording(raw.get("hint"), "hint", where, periods, check, required=False)
    timepoints = raw.get("timepoints", list(TIMEPOINTS))
    if not isinstance(timepoints, list) or not timepoints or not set(timepoints) <= set(TIMEPOINTS):
        check.fail(where, f"'timepoints' must be a non-empty list among {', '.join(TIMEPOINTS)}")
        timepoints = list(TIMEPOINTS)
    choices = _parse_choices(raw, kind, where, check)
    minimum, maximum, labels = _parse_range(raw, kind, where, check)
    exclusive = raw.get("exclusive", [])
    codes = {c.code for c in choices}
    if exclusive and (
        kind != "multi" or not isinstance(exclusive, list) or not set(exclusive) <= codes
    ):
        check.fail(where, "'exclusive' lists codes of this multi item's choices")
        exclusive = []
    when = None
    if "when" in raw:
        when = _parse_condition(raw["when"], where + ": when", check, allow_own=False)
        if when is not None:
            _check_refs(when, earlier, where + ": when", check)
    risk = _parse_risk(raw.get("risk"), item_id, earlier, where, check)
    attribution = raw.get("attribution")
    if attribution is not None and attribution not in attributions:
        check.fail(where, f"attribution '{attribution}' is not defined under 'attributions'")
    if kind == "info" and (risk or choices):
        check.fail(where, "an info item has no choices and no risk rules")
    if len(check.problems) > before or text is None:
        return None
    return Item(
        id=item_id,
        type=kind,
        text=text,
        hint=hint,
        timepoints=frozenset(timepoints),
        when=when,
        choices=choices,
        minimum=minimum,
        maximum=maximum,
        labels=labels,
        exclusive=frozenset(exclusive),
        risk=risk,
        attribution=attribution,
    )


def _parse_wording(
    raw: Any,
    key: str,
    where: str,
    periods: Mapping[str, frozenset[str]],
    check: _Checker,
    *,
    required: bool,
) -> Wording | None:
    if raw is None:
        if required:
            check.fail(where, f"'{key}' is missing")
        return None
    if isinstance(raw, str) and raw.strip():
        return Wording({"default": raw.strip()})
    if isinstance(raw, dict) and raw:
        allowed = set(TIMEPOINTS) | set(periods) | {"default"}
        bad = [k for k in raw if k not in allowed]
        if bad:
            check.fail(where, f"'{key}' has unknown variant(s) {', '.join(map(str, bad))}")
            return None
        if not all(isinstance(v, str) and v.strip() for v in raw.values()):
            check.fail(where, f"every variant of '{key}' must be non-empty text")
            return None
        return Wording({k: v.strip() for k, v in raw.items()})
    check.fail(where, f"'{key}' must be text or a mapping of timepoint/period to text")
    return None


def _parse_choices(
    raw: dict[str, Any], kind: str, where: str, check: _Checker
) -> tuple[Choice, ...]:
    given = raw.get("choices")
    if kind not in _CHOICE_TYPES:
        if given is not None:
            check.fail(where, f"a {kind} item takes no 'choices'")
        return ()
    if not isinstance(given, list) or not 2 <= len(given) <= 9:
        check.fail(where, "'choices' must list 2 to 9 choices")
        return ()
    choices: list[Choice] = []
    for number, choice in enumerate(given, start=1):
        code = choice.get("code") if isinstance(choice, dict) else None
        label = choice.get("label") if isinstance(choice, dict) else None
        if not isinstance(code, str) or not _CODE.match(code):
            check.fail(
                where,
                f"choice {number}: 'code' must be snake_case and not only digits, got {code!r}",
            )
            continue
        if not isinstance(label, str) or not label.strip():
            check.fail(where, f"choice {number} ({code}): 'label' must be non-empty text")
            continue
        choices.append(Choice(code, label.strip()))
    codes = [c.code for c in choices]
    if len(set(codes)) != len(codes):
        check.fail(where, "choice codes must be unique")
    return tuple(choices)


def _parse_range(
    raw: dict[str, Any], kind: str, where: str, check: _Checker
) -> tuple[int | None, int | None, dict[int, str]]:
    if kind not in _RANGE_TYPES:
        for key in ("min", "max", "labels"):
            if key in raw:
                check.fail(where, f"a {kind} item takes no '{key}'")
        return None, None, {}
    low, high = raw.get("min"), raw.get("max")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (low, high)):
        check.fail(where, "'min' and 'max' must be whole numbers")
        return None, None, {}
    assert isinstance(low, int) and isinstance(high, int)
    if low >= high:
        check.fail(where, f"'min' ({low}) must be below 'max' ({high})")
    if kind == "scale" and high - low > 10:
        check.fail(where, "a scale spans at most 11 points; use type number")
    labels = raw.get("labels") or {}
    if not isinstance(labels, dict) or not all(
        isinstance(k, int) and low <= k <= high and isinstance(v, str) for k, v in labels.items()
    ):
        check.fail(where, "'labels' must map numbers within min..max to text")
        labels = {}
    return low, high, dict(labels)


def _parse_risk(
    raw: Any, item_id: str, earlier: set[str], where: str, check: _Checker
) -> tuple[RiskRule, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        check.fail(where, "'risk' must be a list of rules")
        return ()
    rules: list[RiskRule] = []
    for number, rule in enumerate(raw, start=1):
        at = f"{where}: risk rule {number}"
        if not isinstance(rule, dict) or set(rule) != {"if", "level", "reason"}:
            check.fail(at, "needs exactly 'if', 'level' and 'reason'")
            continue
        if rule["level"] not in LEVELS:
            check.fail(at, f"level must be one of {', '.join(LEVELS)}")
            continue
        if not isinstance(rule["reason"], str) or not _ID.match(rule["reason"]):
            check.fail(at, "reason must be a snake_case code")
            continue
        cond = _parse_condition(rule["if"], at, check, allow_own=True)
        if cond is None:
            continue
        _check_refs(cond, earlier | {item_id}, at, check)
        rules.append(RiskRule(cond, rule["level"], rule["reason"]))
    return tuple(rules)


def _parse_condition(raw: Any, where: str, check: _Checker, *, allow_own: bool) -> Condition | None:
    if not isinstance(raw, dict) or not raw:
        check.fail(where, "a condition must be a mapping")
        return None
    for group, cls in (("all", AllOf), ("any", AnyOf)):
        if group in raw:
            parts = raw[group]
            if len(raw) != 1 or not isinstance(parts, list) or not parts:
                check.fail(where, f"'{group}' takes a non-empty list and nothing beside it")
                return None
            parsed = [_parse_condition(p, where, check, allow_own=allow_own) for p in parts]
            if any(p is None for p in parsed):
                return None
            return cls(tuple(p for p in parsed if p is not None))
    if "not" in raw:
        if len(raw) != 1:
            check.fail(where, "'not' stands alone")
            return None
        inner = _parse_condition(raw["not"], where, check, allow_own=allow_own)
        return Not(inner) if inner is not None else None
    ops = [k for k in raw if k in COMPARISONS]
    extra = [k for k in raw if k not in COMPARISONS and k != "item"]
    if len(ops) != 1 or extra:
        check.fail(where, f"needs one of {', '.join(COMPARISONS)} (got {', '.join(map(str, raw))})")
        return None
    item = raw.get("item")
    if item is None and not allow_own:
        check.fail(where, "names no 'item'")
        return None
    op, value = ops[0], raw[ops[0]]
    if op == "in" and not isinstance(value, list):
        check.fail(where, "'in' takes a list")
        return None
    if op in ("gte", "lte") and (not isinstance(value, int) or isinstance(value, bool)):
        check.fail(where, f"'{op}' takes a whole number")
        return None
    if op == "answered" and not isinstance(value, bool):
        check.fail(where, "'answered' takes true or false")
        return None
    return Compare(item, op, value if op == "answered" else _normalise(value))


def _normalise(value: Any) -> Any:
    """YAML reads bare yes/no as booleans; the answers are the codes 'yes'/'no'."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return tuple(_normalise(v) for v in value)
    return value


def _check_refs(cond: Condition, known: set[str], where: str, check: _Checker) -> None:
    for ref in referenced_items(cond):
        if ref is not None and ref not in known:
            check.fail(where, f"refers to '{ref}', which is not an earlier item")
