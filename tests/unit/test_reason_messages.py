"""Every reason a decision can give is said from the catalog, in zh-CN and in English.

A reason keeps its stable ``code`` and its ``figures`` (codes, ISO dates) for programs, and
carries one ``message``: the same figures in words, dates as each language writes them.
"""

from datetime import date
from typing import Any

import pytest

from respite.eligibility import REASON_CODES
from respite.eligibility.reasons import REFUSAL_CODES, Given, message_key, reason
from respite.i18n import CATALOG, LANGUAGES, render

# A value for every figure any reason message names; a new figure fails the walk below.
SAMPLE_FIGURES: dict[str, Any] = {
    "check_in": date(2027, 3, 1),
    "today": date(2027, 3, 2),
    "assessed_on": date(2027, 3, 5),
    "valid_until": date(2027, 3, 3),
    "run_start": date(2027, 2, 1),
    "run_end": date(2027, 3, 8),
    "period_start": date(2027, 1, 1),
    "period_last_day": date(2027, 12, 31),
    "policy_programme": "home",
    "bed_kind": "respite",
    "nights_covered": 3,
    "nights": 7,
    "level": 0,
    "eligible_levels": [1, 2, 3, 4],
    "age": 82,
    "min_age": 60,
    "limit": 30,
    "requested": 7,
    "nights_left": 2,
    "used": 58,
    "extra_nights": 21,
    "base_limit": 63,
    "distance_m": 5400,
    "radius_m": 3000,
    "bed_sex_rule": "female",
    "sex": "male",
    "capability": "oxygen",
    "needs": ["oxygen"],
    "required_stage": 3,
    "bed_stage": 2,
}


def said(code: str, **figures: Any) -> dict[str, str]:
    message = reason(code, figures).message
    return {lang: render(message, lang) for lang in LANGUAGES}


@pytest.mark.parametrize("code", REASON_CODES)
def test_every_reason_code_is_said_in_both_languages(code: str) -> None:
    key = message_key(code)
    assert key in CATALOG, f"no message for {code}"
    figures = {name: SAMPLE_FIGURES[name] for name in CATALOG[key].figures}
    words = said(code, **figures)
    for lang, text in words.items():
        assert text and "{" not in text, (code, lang, text)
    assert words["zh-CN"] != words["en"]


def test_every_refusal_code_is_a_reason_code() -> None:
    assert set(REFUSAL_CODES) <= set(REASON_CODES)


def test_level_not_eligible() -> None:
    assert said("level_not_eligible", level=0, eligible_levels=[1, 2, 3, 4]) == {
        "en": "Level 0 is not eligible (eligible levels: 1, 2, 3, and 4).",
        "zh-CN": "能力等级 0 级不符合条件（符合条件的等级：1、2、3和4）。",
    }


def test_an_exhausted_quota_says_its_dates_as_dates() -> None:
    figures: dict[str, Given] = {
        "period": "calendar_year",
        "period_start": date(2027, 1, 1),
        "period_last_day": date(2027, 12, 31),
        "limit": 60,
        "used": 58,
        "requested": 5,
        "nights_left": 2,
    }
    assert said("quota_exhausted", **figures) == {
        "en": "5 nights requested, but only 2 of 60 are left from January 1, 2027 to "
        "December 31, 2027 (58 used).",
        "zh-CN": "申请 5 晚，但2027年1月1日至2027年12月31日期间 60 晚额度已用 58 晚，仅剩 2 晚。",
    }
    # Programs keep ISO dates and every figure, said or not.
    assert reason("quota_exhausted", figures).figures == {
        **figures,
        "period_start": "2027-01-01",
        "period_last_day": "2027-12-31",
    }


def test_too_many_consecutive_nights() -> None:
    figures = {
        "nights": 35,
        "limit": 30,
        "run_start": date(2027, 3, 1),
        "run_end": date(2027, 4, 5),
    }
    assert said("stay_exceeds_consecutive_limit", **figures) == {
        "en": "This makes 35 consecutive nights (March 1, 2027 to April 5, 2027); the limit is 30.",
        "zh-CN": "连续入住 35 晚（2027年3月1日至2027年4月5日），超过上限 30 晚。",
    }


def test_a_missing_capability_names_it_and_the_needs_in_words() -> None:
    code = "needs_capability_missing:dementia_secure"
    figures = {"capability": "dementia_secure", "needs": ["dementia", "wandering"]}
    assert said(code, **figures) == {
        "en": "The bed lacks a dementia-secure unit, required for dementia and wandering.",
        "zh-CN": "该床位不具备认知症安全单元条件，而照护需求（认知症和游走）需要该条件。",
    }
    assert reason(code, figures).figures == {
        "capability": "dementia_secure",
        "needs": "dementia, wandering",
    }


def test_pressure_care_has_a_message_of_its_own() -> None:
    words = said("needs_capability_missing:pressure_care", required_stage=3, bed_stage=2)
    assert words == {
        "en": "A stage 3 pressure injury needs care the bed offers only up to stage 2.",
        "zh-CN": "需护理 3 期压力性损伤，而该床位仅能护理至 2 期。",
    }


def test_a_sex_rule_says_the_codes_in_words() -> None:
    assert said("sex_rule", bed_sex_rule="female", sex="male") == {
        "en": "The bed is for female residents only; the person is male.",
        "zh-CN": "该床位仅限女性入住，申请人为男性。",
    }
