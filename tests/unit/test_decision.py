"""The eligibility decision: every rule at its boundary, each preset on a typical case."""

from datetime import date, timedelta
from math import pi
from typing import Any

import msgspec
import pytest

from respite.eligibility import (
    DEFAULT_NEEDS_CAPABILITIES,
    PRESETS,
    REASON_CODES,
    BedProfile,
    CareRecipient,
    CurrentAssessment,
    Decision,
    Stay,
    age_on,
    decide,
    programme_decision,
)
from respite.geo import EARTH_RADIUS_M
from respite.i18n import LANGUAGES, render, speaking

TODAY = date(2025, 6, 1)
CHECK_IN = date(2025, 7, 1)
FACILITY = (39.9, 116.4)
RADIUS_M = 5000.0
METRES_PER_DEGREE_LAT = EARTH_RADIUS_M * pi / 180


def person(**changes: Any) -> CareRecipient:
    base = CareRecipient(
        sex="female",
        birth_date=date(1940, 3, 15),
        living_situation="with_family",
        home_lat=FACILITY[0] + 0.01,
        home_lon=FACILITY[1],
    )
    return msgspec.structs.replace(base, **changes)


def bed(kind: str = "respite", **changes: Any) -> BedProfile:
    base = BedProfile(kind="respite", sex_rule="any")
    if kind == "home":
        base = BedProfile(
            kind="home",
            sex_rule="any",
            facility_lat=FACILITY[0],
            facility_lon=FACILITY[1],
            service_radius_m=RADIUS_M,
        )
    return msgspec.structs.replace(base, **changes)


def assessment(level: int = 2, **changes: Any) -> CurrentAssessment:
    base = CurrentAssessment(
        level=level, assessed_on=date(2025, 1, 1), valid_until=date(2025, 12, 31)
    )
    return msgspec.structs.replace(base, **changes)


def nights(count: int, check_in: date = CHECK_IN) -> Stay:
    return Stay(check_in=check_in, check_out=check_in + timedelta(days=count))


def run(
    code: str = "cn-respite",
    *,
    who: CareRecipient | None = None,
    assessed: CurrentAssessment | None = None,
    where: BedProfile | None = None,
    stay: Stay | None = None,
    used: list[Stay] | None = None,
) -> Decision:
    return decide(
        PRESETS[code],
        who or person(),
        assessed,
        where or bed(PRESETS[code].programme),
        stay or nights(10),
        used or [],
        TODAY,
    )


def refusals(decision: Decision) -> list[str]:
    return [r.code for r in decision.reasons if not r.ok]


def oks(decision: Decision) -> list[str]:
    return [r.code for r in decision.reasons if r.ok]


def figures(decision: Decision, code: str) -> dict[str, int | float | str]:
    (found,) = [r.figures for r in decision.reasons if r.code == code]
    return found


@pytest.mark.parametrize(
    ("code", "level", "ok_codes", "period", "limit"),
    [
        ("cn-respite", 2, ["level_eligible", "within_quota"], "calendar_year", 60),
        ("cn-home-bed", 3, ["level_eligible", "within_service_radius"], None, None),
        ("jp-short-stay", 1, ["level_eligible", "within_quota"], "half_certification", 182),
        ("de-kurzzeitpflege", 2, ["level_eligible", "within_quota"], "calendar_year", 56),
        ("au-residential-respite", 1, ["level_eligible", "within_quota"], "financial_year", 63),
    ],
)
def test_typical_eligible_case_per_preset(
    code: str, level: int, ok_codes: list[str], period: str | None, limit: int | None
) -> None:
    decision = run(code, assessed=assessment(level))
    assert decision.eligible
    assert (decision.policy_code, decision.level, decision.age_at_check_in) == (code, level, 85)
    assert oks(decision) == ok_codes
    assert [(p.period, p.limit) for p in decision.periods] == ([(period, limit)] if period else [])


@pytest.mark.parametrize(
    ("code", "level", "stay", "used", "refused"),
    [
        ("cn-respite", 0, nights(10), [], ["level_not_eligible"]),
        ("cn-home-bed", 1, nights(10), [], ["level_not_eligible"]),
        ("jp-short-stay", 3, nights(31), [], ["stay_exceeds_consecutive_limit"]),
        ("de-kurzzeitpflege", 1, nights(10), [], ["level_not_eligible"]),
        (
            "au-residential-respite",
            2,
            nights(5),
            [nights(60, date(2025, 9, 1))],
            ["quota_exhausted"],
        ),
    ],
)
def test_typical_refusal_per_preset(
    code: str, level: int, stay: Stay, used: list[Stay], refused: list[str]
) -> None:
    decision = run(code, assessed=assessment(level), stay=stay, used=used)
    assert not decision.eligible
    assert refusals(decision) == refused


@pytest.mark.parametrize(
    ("assessed", "stay", "refused"),
    [
        (None, nights(10), ["no_assessment"]),
        (
            assessment(valid_until=CHECK_IN - timedelta(days=1)),
            nights(1),
            ["assessment_expired_before_check_in"],
        ),
        (assessment(valid_until=CHECK_IN), nights(1), []),
        (assessment(valid_until=CHECK_IN + timedelta(days=9)), nights(10), []),
        (
            assessment(valid_until=CHECK_IN + timedelta(days=8)),
            nights(10),
            ["assessment_expires_during_stay"],
        ),
        (
            assessment(assessed_on=CHECK_IN + timedelta(days=1)),
            nights(10),
            ["assessment_after_check_in"],
        ),
        # Valid by the assessor until 2026, but the policy accepts assessments for 365 days.
        (
            assessment(assessed_on=date(2024, 7, 1), valid_until=date(2026, 12, 31)),
            nights(10),
            ["assessment_expired_before_check_in"],
        ),
    ],
)
def test_assessment_must_cover_every_night(
    assessed: CurrentAssessment | None, stay: Stay, refused: list[str]
) -> None:
    assert refusals(run(assessed=assessed, stay=stay)) == refused


def test_mid_stay_expiry_reports_the_nights_covered() -> None:
    decision = run(assessed=assessment(valid_until=date(2025, 7, 4)), stay=nights(10))
    assert figures(decision, "assessment_expires_during_stay") == {
        "check_in": "2025-07-01",
        "valid_until": "2025-07-04",
        "nights_covered": 4,
        "nights": 10,
    }


def test_expiry_by_policy_reports_the_policy_date() -> None:
    expired = assessment(assessed_on=date(2024, 7, 1), valid_until=date(2026, 12, 31))
    decision = run(assessed=expired)
    assert figures(decision, "assessment_expired_before_check_in")["valid_until"] == "2025-06-30"


@pytest.mark.parametrize(
    ("level", "eligible"), [(0, False), (1, True), (2, True), (3, True), (4, True)]
)
def test_cn_respite_levels(level: int, eligible: bool) -> None:
    assert run(assessed=assessment(level)).eligible is eligible


@pytest.mark.parametrize(
    ("birth_date", "age", "refused"),
    [
        (date(1965, 7, 2), 59, ["age_below_minimum"]),
        (date(1965, 7, 1), 60, []),
        (date(1965, 6, 30), 60, []),
    ],
)
def test_age_is_computed_at_check_in(birth_date: date, age: int, refused: list[str]) -> None:
    decision = run(who=person(birth_date=birth_date), assessed=assessment())
    assert decision.age_at_check_in == age
    assert refusals(decision) == refused


@pytest.mark.parametrize(
    ("birth_date", "day", "age"),
    [
        (date(1964, 2, 29), date(2024, 2, 28), 59),
        (date(1964, 2, 29), date(2024, 2, 29), 60),
        (date(1964, 2, 29), date(2025, 2, 28), 60),
        (date(1964, 2, 29), date(2025, 3, 1), 61),
        (date(1945, 12, 31), date(2025, 12, 30), 79),
        (date(1945, 12, 31), date(2025, 12, 31), 80),
    ],
)
def test_age_on(birth_date: date, day: date, age: int) -> None:
    assert age_on(birth_date, day) == age


@pytest.mark.parametrize(
    ("stay", "used", "run_nights"),
    [
        (nights(30), [], None),
        (nights(31), [], 31),
        (nights(11), [nights(20, CHECK_IN - timedelta(days=20))], 31),
        (nights(11), [nights(20, CHECK_IN - timedelta(days=21))], None),
        (nights(11), [nights(19, CHECK_IN + timedelta(days=11))], None),
        (nights(11), [nights(20, CHECK_IN + timedelta(days=11))], 31),
    ],
)
def test_consecutive_limit_joins_back_to_back_stays(
    stay: Stay, used: list[Stay], run_nights: int | None
) -> None:
    decision = run(assessed=assessment(), stay=stay, used=used)
    if run_nights is None:
        assert decision.eligible
        return
    assert refusals(decision) == ["stay_exceeds_consecutive_limit"]
    assert figures(decision, "stay_exceeds_consecutive_limit")["nights"] == run_nights


@pytest.mark.parametrize(("requested", "refused"), [(5, []), (6, ["quota_exhausted"])])
def test_quota_exhausted_reports_the_period_figures(requested: int, refused: list[str]) -> None:
    used = [nights(55, date(2025, 1, 1))]
    decision = run(assessed=assessment(), stay=nights(requested), used=used)
    assert refusals(decision) == refused
    code = "quota_exhausted" if refused else "within_quota"
    assert figures(decision, code) == {
        "period": "calendar_year",
        "period_start": "2025-01-01",
        "period_last_day": "2025-12-31",
        "limit": 60,
        "used": 55,
        "requested": requested,
        "nights_left": 5,
    }


def test_a_stay_across_new_year_counts_in_both_years() -> None:
    stay = Stay(check_in=date(2025, 12, 30), check_out=date(2026, 1, 3))
    used = [nights(59, date(2025, 1, 1))]
    current = assessment(assessed_on=date(2025, 6, 1), valid_until=date(2026, 5, 31))
    decision = run(assessed=current, stay=stay, used=used)
    assert [r.code for r in decision.reasons] == [
        "level_eligible",
        "quota_exhausted",
        "within_quota",
    ]
    assert figures(decision, "quota_exhausted")["requested"] == 2
    assert figures(decision, "within_quota")["requested"] == 2


@pytest.mark.parametrize(
    ("approved", "used_nights", "requested", "refused", "extended"),
    [
        (False, 60, 3, [], False),
        (False, 60, 4, ["quota_exhausted"], False),
        (True, 60, 4, [], True),
        (True, 60, 24, [], True),
        (True, 60, 25, ["quota_exhausted"], True),
        (True, 0, 10, [], False),
    ],
)
def test_au_extension_with_approval(
    approved: bool, used_nights: int, requested: int, refused: list[str], extended: bool
) -> None:
    used = [nights(used_nights, date(2025, 9, 1))] if used_nights else []
    decision = run(
        "au-residential-respite",
        assessed=assessment(extension_approved=approved),
        stay=nights(requested),
        used=used,
    )
    assert refusals(decision) == refused
    assert ("quota_extended_by_approval" in oks(decision)) is extended


def test_jp_half_certification_quota() -> None:
    certification = assessment(3, valid_until=date(2025, 6, 30))
    stay = nights(10, date(2025, 6, 1))
    used = [nights(85, date(2025, 2, 1))]
    decision = run("jp-short-stay", assessed=certification, stay=stay, used=used)
    assert refusals(decision) == ["quota_exhausted"]
    assert figures(decision, "quota_exhausted")["nights_left"] == 5


@pytest.mark.parametrize(
    ("need", "capability"),
    [(need, caps[0]) for need, caps in DEFAULT_NEEDS_CAPABILITIES.items()],
)
def test_each_need_requires_its_capability(need: str, capability: str) -> None:
    who = person(needs=frozenset({need}))
    without = run(who=who, assessed=assessment())
    assert refusals(without) == [f"needs_capability_missing:{capability}"]
    assert figures(without, f"needs_capability_missing:{capability}") == {
        "capability": capability,
        "needs": need,
    }
    with_it = run(who=who, assessed=assessment(), where=bed(capabilities=frozenset({capability})))
    assert with_it.eligible


def test_needs_sharing_a_capability_give_one_reason() -> None:
    who = person(needs=frozenset({"wandering", "dementia", "oxygen"}))
    decision = run(who=who, assessed=assessment())
    assert refusals(decision) == [
        "needs_capability_missing:dementia_secure",
        "needs_capability_missing:oxygen",
    ]
    assert figures(decision, "needs_capability_missing:dementia_secure")["needs"] == (
        "dementia, wandering"
    )


def test_a_need_the_policy_does_not_map_requires_nothing() -> None:
    policy = msgspec.structs.replace(PRESETS["cn-respite"], needs_capabilities={})
    who = person(needs=frozenset({"oxygen"}))
    decision = decide(policy, who, assessment(), bed(), nights(10), [], TODAY)
    assert decision.eligible


@pytest.mark.parametrize(
    ("person_stage", "bed_stage", "refused"),
    [(0, 0, False), (2, 2, False), (1, 4, False), (3, 2, True), (4, 3, True), (1, 0, True)],
)
def test_pressure_injury_stage_against_bed_stage(
    person_stage: int, bed_stage: int, refused: bool
) -> None:
    decision = run(
        who=person(pressure_injury_stage=person_stage),
        assessed=assessment(),
        where=bed(pressure_care_stage=bed_stage),
    )
    code = "needs_capability_missing:pressure_care"
    assert (code in refusals(decision)) is refused
    if refused:
        assert figures(decision, code) == {"required_stage": person_stage, "bed_stage": bed_stage}


@pytest.mark.parametrize(
    ("sex_rule", "sex", "refused"),
    [
        ("female", "male", True),
        ("male", "female", True),
        ("female", "female", False),
        ("male", "male", False),
        ("any", "male", False),
        ("any", "female", False),
    ],
)
def test_sex_rule(sex_rule: str, sex: str, refused: bool) -> None:
    decision = run(who=person(sex=sex), assessed=assessment(), where=bed(sex_rule=sex_rule))
    assert refusals(decision) == (["sex_rule"] if refused else [])


@pytest.mark.parametrize(
    ("distance_m", "code"),
    [
        (0.0, "within_service_radius"),
        (4990.0, "within_service_radius"),
        (5010.0, "outside_service_radius"),
    ],
)
def test_service_radius(distance_m: float, code: str) -> None:
    who = person(home_lat=FACILITY[0] + distance_m / METRES_PER_DEGREE_LAT)
    decision = run("cn-home-bed", who=who, assessed=assessment(3))
    assert [r.code for r in decision.reasons if "radius" in r.code] == [code]
    assert figures(decision, code) == {"distance_m": round(distance_m), "radius_m": 5000}


def test_missing_home_location_refuses_a_home_bed() -> None:
    who = person(home_lat=None, home_lon=None)
    decision = run("cn-home-bed", who=who, assessed=assessment(3))
    assert refusals(decision) == ["home_location_missing"]
    alone = programme_decision(PRESETS["cn-home-bed"], who, assessment(3), nights(10), [], TODAY)
    assert refusals(alone) == ["home_location_missing"]


@pytest.mark.parametrize(
    ("level", "birth_date", "living", "refused", "ok_code"),
    [
        (1, date(1945, 7, 1), "alone", [], "eligible_via_alternative_route"),
        (0, date(1930, 1, 1), "alone", [], "eligible_via_alternative_route"),
        (1, date(1945, 7, 2), "alone", ["level_not_eligible"], None),
        (1, date(1940, 1, 1), "with_family", ["level_not_eligible"], None),
        (1, date(1940, 1, 1), "other", ["level_not_eligible"], None),
        (2, date(1940, 1, 1), "alone", [], "level_eligible"),
    ],
)
def test_home_bed_alternative_route(
    level: int, birth_date: date, living: str, refused: list[str], ok_code: str | None
) -> None:
    who = person(birth_date=birth_date, living_situation=living)
    decision = run("cn-home-bed", who=who, assessed=assessment(level))
    assert refusals(decision) == refused
    level_codes = [r.code for r in decision.reasons if r.code.startswith(("level", "eligible"))]
    assert level_codes == [ok_code or "level_not_eligible"]


def test_alternative_route_still_needs_an_assessment() -> None:
    who = person(birth_date=date(1930, 1, 1), living_situation="alone")
    assert refusals(run("cn-home-bed", who=who)) == ["no_assessment"]


@pytest.mark.parametrize(("code", "kind"), [("cn-respite", "home"), ("cn-home-bed", "respite")])
def test_programme_mismatch(code: str, kind: str) -> None:
    decision = run(code, assessed=assessment(3), where=bed(kind))
    assert refusals(decision) == ["programme_mismatch"]
    assert figures(decision, "programme_mismatch") == {
        "policy_programme": PRESETS[code].programme,
        "bed_kind": kind,
    }


@pytest.mark.parametrize(
    ("check_in", "refused"), [(TODAY, []), (TODAY - timedelta(days=1), ["check_in_in_past"])]
)
def test_check_in_in_the_past(check_in: date, refused: list[str]) -> None:
    assert refusals(run(assessed=assessment(), stay=nights(3, check_in))) == refused


def test_programme_decision_has_no_bed_rules() -> None:
    who = person(sex="male", needs=frozenset({"oxygen"}))
    decision = programme_decision(PRESETS["cn-respite"], who, assessment(), nights(5), [], TODAY)
    assert decision.eligible
    assert oks(decision) == ["level_eligible", "within_quota"]


def test_every_ground_of_refusal_is_reported_with_messages() -> None:
    who = person(
        sex="male",
        birth_date=date(1970, 1, 1),
        needs=frozenset({"tracheostomy"}),
        pressure_injury_stage=2,
    )
    decision = run(
        who=who,
        assessed=assessment(0, valid_until=date(2025, 7, 2)),
        where=bed("home", sex_rule="female"),
        stay=nights(40, TODAY - timedelta(days=1)),
        used=[nights(30, date(2025, 2, 1))],
    )
    assert not decision.eligible
    assert refusals(decision) == [
        "programme_mismatch",
        "check_in_in_past",
        "assessment_expires_during_stay",
        "level_not_eligible",
        "age_below_minimum",
        "stay_exceeds_consecutive_limit",
        "quota_exhausted",
        "sex_rule",
        "needs_capability_missing:tracheostomy_suction",
        "needs_capability_missing:pressure_care",
    ]
    for reason in decision.reasons:
        assert reason.code in REASON_CODES
        for lang in LANGUAGES:
            said = render(reason.message, lang)
            assert said and "{" not in said


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"check_in": "2025-07-01", "check_out": "2025-07-01"}, "at least one night"),
        ({"check_in": "2025-07-02", "check_out": "2025-07-01"}, "at least one night"),
        ({"check_in": "2025-07-01", "check_out": "2025-07-02", "beds": 2}, "unknown field"),
    ],
)
def test_invalid_stays_are_refused(document: dict[str, str], message: str) -> None:
    with pytest.raises(msgspec.ValidationError, match=message):
        msgspec.json.decode(msgspec.json.encode(document), type=Stay)


def test_stay_nights() -> None:
    stay = Stay(check_in=date(2028, 2, 27), check_out=date(2028, 3, 2))
    assert stay.nights == 4
    assert stay.last_night == date(2028, 3, 1)
    assert list(stay.each_night()) == [
        date(2028, 2, 27),
        date(2028, 2, 28),
        date(2028, 2, 29),
        date(2028, 3, 1),
    ]


@pytest.mark.parametrize(
    ("struct", "document", "message"),
    [
        (
            CareRecipient,
            {
                "sex": "female",
                "birth_date": "1940-01-01",
                "living_situation": "alone",
                "home_lat": 39.9,
            },
            "home_lat and home_lon together",
        ),
        (
            CareRecipient,
            {
                "sex": "female",
                "birth_date": "1940-01-01",
                "living_situation": "alone",
                "needs": ["snoring"],
            },
            r"\$\.needs\[0\]",
        ),
        (
            CareRecipient,
            {
                "sex": "female",
                "birth_date": "1940-01-01",
                "living_situation": "alone",
                "pressure_injury_stage": 5,
            },
            r"\$\.pressure_injury_stage",
        ),
        (
            BedProfile,
            {"kind": "home", "sex_rule": "any", "facility_lat": 39.9, "facility_lon": 116.4},
            "service_radius_m",
        ),
        (
            BedProfile,
            {"kind": "respite", "sex_rule": "any", "capabilities": ["jacuzzi"]},
            r"\$\.capabilities\[0\]",
        ),
        (
            CurrentAssessment,
            {"level": 2, "assessed_on": "2025-02-01", "valid_until": "2025-01-31"},
            "valid_until",
        ),
        (
            CurrentAssessment,
            {"level": 5, "assessed_on": "2025-02-01", "valid_until": "2025-03-01"},
            r"\$\.level",
        ),
    ],
)
def test_invalid_inputs_are_refused(struct: type, document: dict[str, Any], message: str) -> None:
    with pytest.raises(msgspec.ValidationError, match=message):
        msgspec.json.decode(msgspec.json.encode(document), type=struct)


def test_a_decision_encodes_to_json_for_the_api() -> None:
    decision = run(assessed=assessment(), stay=nights(3))
    with speaking("zh-CN"):
        document = msgspec.json.decode(msgspec.json.encode(decision, enc_hook=render))
    assert document["eligible"] is True
    assert document["periods"][0]["left"] == 60
    assert document["reasons"][0]["message"].startswith("能力等级 2 级符合条件")
