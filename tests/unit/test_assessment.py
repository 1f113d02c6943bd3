"""GB/T 42195-2022 scoring: level boundaries, score validation and adjustments."""

from typing import Any

import msgspec
import pytest

from respite.eligibility import AssessmentScores, assess, level_for_total

DOMAINS_AT_ZERO = {"self_care": 0, "mobility": 0, "mental": 0, "perception_social": 0}


def decode(document: dict[str, Any]) -> AssessmentScores:
    return msgspec.json.decode(msgspec.json.encode(document), type=AssessmentScores)


@pytest.mark.parametrize(
    ("total", "level"),
    [(90, 0), (89, 1), (66, 1), (65, 2), (46, 2), (45, 3), (30, 3), (29, 4), (0, 4)],
)
def test_level_for_each_total_boundary(total: int, level: int) -> None:
    assert level_for_total(total) == level
    assert assess(decode({"total": total}), stack_raises=False).level == level


@pytest.mark.parametrize(
    ("domain", "highest"),
    [("self_care", 32), ("mobility", 15), ("mental", 28), ("perception_social", 15)],
)
def test_domain_bounds_decode(domain: str, highest: int) -> None:
    for score in (0, highest):
        scores = decode({**DOMAINS_AT_ZERO, domain: score})
        assert scores.score_total == score


@pytest.mark.parametrize(
    ("domain", "score"),
    [
        ("self_care", -1),
        ("self_care", 33),
        ("mobility", -1),
        ("mobility", 16),
        ("mental", -1),
        ("mental", 29),
        ("perception_social", -1),
        ("perception_social", 16),
    ],
)
def test_domain_out_of_bounds_is_refused_with_its_path(domain: str, score: int) -> None:
    with pytest.raises(msgspec.ValidationError, match=rf"\$\.{domain}"):
        decode({**DOMAINS_AT_ZERO, domain: score})


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"total": -1}, r"\$\.total"),
        ({"total": 91}, r"\$\.total"),
        ({"total": "60"}, r"Expected `int \| null`, got `str`"),
        ({"total": 60, "risk_events_30d": -1}, r"\$\.risk_events_30d"),
        ({"total": 60, "falls": 1}, "unknown field `falls`"),
        ({"total": 60, "risk_events_30d": 1000}, r"\$\.risk_events_30d"),
        ({}, "^total: give the four domain scores or total"),
        (
            {**DOMAINS_AT_ZERO, "total": 1},
            "^total: 1 does not equal the sum of the domain scores 0",
        ),
        (
            {"self_care": 10, "mobility": 5, "total": 40},
            "^mental: .*missing: mental, perception_social",
        ),
        ({"mental": 10}, "^self_care: .*missing: self_care, mobility, perception_social"),
    ],
)
def test_invalid_scores_are_refused(document: dict[str, Any], message: str) -> None:
    with pytest.raises(msgspec.ValidationError, match=message):
        decode(document)


def test_domains_and_matching_total_are_accepted() -> None:
    document = {"self_care": 20, "mobility": 10, "mental": 20, "perception_social": 10}
    scores = decode({**document, "total": 60})
    result = assess(scores, stack_raises=False)
    assert (result.total, result.base_level, result.level) == (60, 2, 2)


ADJUSTMENT_CASES = [
    # total, coma, dementia, risk events, stack, base, final, [(code, outcome)]
    (89, False, False, 0, False, 1, 1, []),
    (89, False, True, 0, False, 1, 2, [("dementia_or_mental_disorder", "applied")]),
    (89, False, False, 1, False, 1, 1, []),
    (89, False, False, 2, False, 1, 2, [("risk_events", "applied")]),
    (
        89,
        False,
        True,
        2,
        False,
        1,
        2,
        [("dementia_or_mental_disorder", "applied"), ("risk_events", "not_stacked")],
    ),
    (
        89,
        False,
        True,
        5,
        True,
        1,
        3,
        [("dementia_or_mental_disorder", "applied"), ("risk_events", "applied")],
    ),
    (
        90,
        False,
        True,
        2,
        True,
        0,
        2,
        [("dementia_or_mental_disorder", "applied"), ("risk_events", "applied")],
    ),
    (
        40,
        False,
        True,
        2,
        True,
        3,
        4,
        [("dementia_or_mental_disorder", "applied"), ("risk_events", "capped")],
    ),
    (
        40,
        False,
        True,
        2,
        False,
        3,
        4,
        [("dementia_or_mental_disorder", "applied"), ("risk_events", "not_stacked")],
    ),
    (20, False, True, 0, False, 4, 4, [("dementia_or_mental_disorder", "capped")]),
    (
        20,
        False,
        True,
        3,
        False,
        4,
        4,
        [("dementia_or_mental_disorder", "capped"), ("risk_events", "capped")],
    ),
    (90, True, False, 0, False, 0, 4, [("coma", "applied")]),
    (10, True, False, 0, False, 4, 4, [("coma", "capped")]),
    (
        90,
        True,
        True,
        2,
        True,
        0,
        4,
        [("coma", "applied"), ("dementia_or_mental_disorder", "capped"), ("risk_events", "capped")],
    ),
]


@pytest.mark.parametrize(
    ("total", "coma", "dementia", "risk_events", "stack", "base", "level", "adjustments"),
    ADJUSTMENT_CASES,
)
def test_adjustments(
    total: int,
    coma: bool,
    dementia: bool,
    risk_events: int,
    stack: bool,
    base: int,
    level: int,
    adjustments: list[tuple[str, str]],
) -> None:
    scores = decode(
        {
            "total": total,
            "coma": coma,
            "dementia_or_mental_disorder": dementia,
            "risk_events_30d": risk_events,
        }
    )
    result = assess(scores, stack_raises=stack)
    assert (result.base_level, result.level) == (base, level)
    assert [(a.code, a.outcome) for a in result.adjustments] == adjustments


def test_adjustments_record_the_levels_they_moved_between() -> None:
    scores = decode({"total": 50, "dementia_or_mental_disorder": True, "risk_events_30d": 2})
    first, second = assess(scores, stack_raises=True).adjustments
    assert (first.level_before, first.level_after) == (2, 3)
    assert (second.level_before, second.level_after) == (3, 4)
