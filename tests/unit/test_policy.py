"""Policy documents and presets, and counting nights against each kind of quota."""

from datetime import date, timedelta
from typing import Any

import msgspec
import pytest

from respite import eligibility
from respite.eligibility import (
    PRESETS,
    CalendarYear,
    CurrentAssessment,
    FinancialYear,
    HalfCertification,
    InvalidPolicyError,
    MalformedPolicyError,
    Month,
    Quota,
    Rolling365,
    Stay,
    decode_policy,
    decode_publication,
    nights_used_by_period,
)


def stay(check_in: str, check_out: str) -> Stay:
    return Stay(check_in=date.fromisoformat(check_in), check_out=date.fromisoformat(check_out))


def night(day: str, nights: int = 1) -> Stay:
    start = date.fromisoformat(day)
    return Stay(check_in=start, check_out=start + timedelta(days=nights))


@pytest.mark.parametrize("code", sorted(PRESETS))
def test_each_preset_round_trips_through_its_json(code: str) -> None:
    policy = PRESETS[code]
    assert policy.code == code
    assert decode_policy(msgspec.json.encode(policy)) == policy


@pytest.mark.parametrize(
    ("code", "eligible_grades"),
    [
        ("cn-respite", {"轻度受损", "中度受损", "重度受损", "完全丧失"}),
        ("cn-home-bed", {"中度受损", "重度受损", "完全丧失"}),
        (
            "jp-short-stay",
            {"要支援1", "要支援2", "要介護1", "要介護2", "要介護3", "要介護4", "要介護5"},
        ),
        ("de-kurzzeitpflege", {"Pflegegrad 2", "Pflegegrad 3", "Pflegegrad 4", "Pflegegrad 5"}),
        ("au-residential-respite", {"approved for residential respite"}),
    ],
)
def test_level_scale_keeps_native_eligibility(code: str, eligible_grades: set[str]) -> None:
    """A grade is eligible by its mapped level exactly when the native rule makes it eligible."""
    policy = PRESETS[code]
    for grade, level in policy.level_scale.items():
        native = any(grade.startswith(eligible) for eligible in eligible_grades)
        assert (level in policy.eligible_levels) == native, grade


def cn_respite_document(**changes: Any) -> bytes:
    document = msgspec.to_builtins(PRESETS["cn-respite"])
    document.update(changes)
    return msgspec.json.encode(document)


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (cn_respite_document(quota={"period": "calendar_year", "nights": "60"}), "quota.nights"),
        (cn_respite_document(quota={"period": "calendar_year", "nights": 0}), "quota.nights"),
        (cn_respite_document(quota={"period": "calendar_year"}), "quota.nights"),
        (cn_respite_document(quota={"period": "weekly", "nights": 3}), "quota.period"),
        (
            cn_respite_document(
                quota={"period": "financial_year", "nights": 63, "start_month": 13}
            ),
            "quota.start_month",
        ),
        (cn_respite_document(colour="red"), "colour"),
        (cn_respite_document(eligible_levels=[1, 5]), "eligible_levels[1]"),
        (cn_respite_document(eligible_levels=[]), "eligible_levels"),
        (cn_respite_document(jurisdiction="china"), "jurisdiction"),
        (
            cn_respite_document(needs_capabilities={"oxygen": ["oxygen_tank"]}),
            "needs_capabilities[...][0]",
        ),
        (cn_respite_document(needs_capabilities={"snoring": []}), "needs_capabilities"),
        (
            cn_respite_document(programme="home", home={"alternative_min_age_living_alone": "80"}),
            "home.alternative_min_age_living_alone",
        ),
        (cn_respite_document(home={}), "home"),
        (
            cn_respite_document(quota=None, extra_nights_with_approval=21),
            "extra_nights_with_approval",
        ),
        (cn_respite_document(eligible_levels=[2, 2]), "eligible_levels"),
        (
            cn_respite_document(overridable={"with_reason": ["snoring"]}),
            "overridable.with_reason",
        ),
        (
            cn_respite_document(overridable={"with_reason": ["within_quota"]}),
            "overridable.with_reason",
        ),
        (
            cn_respite_document(
                overridable={"with_reason": ["sex_rule"], "with_acknowledgement": ["sex_rule"]}
            ),
            "overridable.with_acknowledgement",
        ),
        (cn_respite_document(overridable={"with_reason": "sex_rule"}), "overridable.with_reason"),
        (cn_respite_document(overridable={"anyone": []}), "overridable.anyone"),
        (b'{"code": "cn-respite",', "$"),
        (b"[]", "$"),
    ],
)
def test_decode_policy_names_the_wrong_field(raw: bytes, field: str) -> None:
    """Paths use the notation of problem details: ``quota.nights``, not ``$.quota.nights``."""
    with pytest.raises(InvalidPolicyError) as caught:
        decode_policy(raw)
    assert caught.value.field == field
    assert caught.value.reason
    assert not caught.value.reason.startswith(f"{field}:")


def test_input_that_is_not_json_is_malformed_not_a_field_error() -> None:
    with pytest.raises(MalformedPolicyError):
        decode_policy(b'{"code": "cn-respite",')
    with pytest.raises(InvalidPolicyError) as caught:
        decode_policy(b"[]")
    assert not isinstance(caught.value, MalformedPolicyError)


def test_decode_policy_reason_is_msgspec_message_without_the_path() -> None:
    raw = cn_respite_document(quota={"period": "calendar_year", "nights": "60"})
    with pytest.raises(InvalidPolicyError) as caught:
        decode_policy(raw)
    assert caught.value.field == "quota.nights"
    assert caught.value.reason == "Expected `int`, got `str`"


def test_decode_publication_needs_effective_from_and_gives_back_the_document() -> None:
    with pytest.raises(InvalidPolicyError) as caught:
        decode_publication(cn_respite_document())
    assert caught.value.field == "effective_from"
    published = decode_publication(cn_respite_document(effective_from="2027-01-01"))
    assert published.effective_from == date(2027, 1, 1)
    assert published.document() == PRESETS["cn-respite"]


# Each case: quota, used stays, requested stay, expected (start, end, limit, used, requested).
PERIOD_CASES: list[tuple[Quota, list[Stay], Stay, list[tuple[str, str, int, int, int]]]] = [
    (
        CalendarYear(nights=60),
        [stay("2025-12-25", "2025-12-28"), stay("2026-01-10", "2026-01-15")],
        stay("2025-12-30", "2026-01-03"),
        [("2025-01-01", "2026-01-01", 60, 3, 2), ("2026-01-01", "2027-01-01", 60, 5, 2)],
    ),
    (
        CalendarYear(nights=366),
        [stay("2028-01-01", "2028-02-28"), stay("2028-03-01", "2029-01-01")],
        stay("2028-02-28", "2028-03-01"),
        [("2028-01-01", "2029-01-01", 366, 364, 2)],
    ),
    (
        CalendarYear(nights=366),
        [stay("2027-01-01", "2027-02-28"), stay("2027-03-01", "2028-01-01")],
        stay("2027-02-28", "2027-03-01"),
        [("2027-01-01", "2028-01-01", 366, 364, 1)],
    ),
    (
        FinancialYear(nights=63, start_month=7),
        [stay("2025-07-01", "2025-07-11"), stay("2026-07-20", "2026-07-25")],
        stay("2026-06-29", "2026-07-02"),
        [("2025-07-01", "2026-07-01", 63, 10, 2), ("2026-07-01", "2027-07-01", 63, 5, 1)],
    ),
    (
        FinancialYear(nights=63, start_month=7),
        [],
        stay("2028-02-28", "2028-03-01"),
        [("2027-07-01", "2028-07-01", 63, 0, 2)],
    ),
    (
        FinancialYear(nights=30, start_month=4),
        [],
        stay("2026-03-31", "2026-04-01"),
        [("2025-04-01", "2026-04-01", 30, 0, 1)],
    ),
    (
        FinancialYear(nights=30, start_month=1),
        [],
        stay("2025-12-31", "2026-01-02"),
        [("2025-01-01", "2026-01-01", 30, 0, 1), ("2026-01-01", "2027-01-01", 30, 0, 1)],
    ),
    (
        Month(nights=10),
        [stay("2028-01-05", "2028-01-08")],
        stay("2028-01-30", "2028-03-01"),
        [
            ("2028-01-01", "2028-02-01", 10, 3, 2),
            ("2028-02-01", "2028-03-01", 10, 0, 29),
        ],
    ),
    (
        Month(nights=10),
        [],
        stay("2025-12-31", "2026-01-02"),
        [("2025-12-01", "2026-01-01", 10, 0, 1), ("2026-01-01", "2026-02-01", 10, 0, 1)],
    ),
    (
        Rolling365(nights=60),
        [night("2024-03-01")],
        night("2025-02-28"),
        [("2024-03-01", "2025-03-01", 60, 1, 1)],
    ),
    (
        Rolling365(nights=60),
        [night("2024-03-01")],
        night("2025-03-01"),
        [("2024-03-02", "2025-03-02", 60, 0, 1)],
    ),
    (
        Rolling365(nights=60),
        [night("2025-03-01")],
        night("2026-02-28"),
        [("2025-03-01", "2026-03-01", 60, 1, 1)],
    ),
    (
        Rolling365(nights=55),
        [stay("2026-06-01", "2026-07-21")],
        stay("2026-01-01", "2026-01-11"),
        [("2025-07-21", "2026-07-21", 55, 50, 10)],
    ),
]


@pytest.mark.parametrize(("quota", "used", "requested", "expected"), PERIOD_CASES)
def test_nights_count_in_the_period_they_fall_in(
    quota: Quota, used: list[Stay], requested: Stay, expected: list[tuple[str, str, int, int, int]]
) -> None:
    periods = nights_used_by_period(quota, used, requested)
    assert [
        (p.start.isoformat(), p.end.isoformat(), p.limit, p.used, p.requested) for p in periods
    ] == expected


@pytest.mark.parametrize(
    ("year", "days"), [(2025, 365), (2027, 365), (2028, 366), (2100, 365), (2000, 366)]
)
def test_calendar_year_period_length(year: int, days: int) -> None:
    (period,) = nights_used_by_period(CalendarYear(nights=1), [], night(f"{year}-06-01"))
    assert (period.end - period.start).days == days


@pytest.mark.parametrize(
    ("used", "requested", "limit", "left", "exceeded"),
    [
        (0, 60, 60, 60, False),
        (55, 5, 60, 5, False),
        (55, 6, 60, 5, True),
        (60, 1, 60, 0, True),
        (70, 1, 60, 0, True),
    ],
)
def test_nights_left_and_exceeded(
    used: int, requested: int, limit: int, left: int, exceeded: bool
) -> None:
    used_stays = [night("2025-01-01", used)] if used else []
    requested_stay = night("2025-09-01", requested)
    (period,) = nights_used_by_period(CalendarYear(nights=limit), used_stays, requested_stay)
    assert (period.used, period.left, period.exceeded) == (used, left, exceeded)


def test_a_night_booked_twice_counts_once() -> None:
    used = [stay("2025-03-01", "2025-03-11"), stay("2025-03-05", "2025-03-15")]
    requested = stay("2025-03-10", "2025-03-20")
    (period,) = nights_used_by_period(CalendarYear(nights=60), used, requested)
    assert (period.used, period.requested) == (9, 10)


def test_extra_nights_raise_every_limit() -> None:
    quota = FinancialYear(nights=63, start_month=7)
    periods = nights_used_by_period(quota, [], stay("2026-06-30", "2026-07-02"), extra_nights=21)
    assert [p.limit for p in periods] == [84, 84]


CERTIFICATION = CurrentAssessment(
    level=3, assessed_on=date(2025, 1, 1), valid_until=date(2025, 6, 30)
)


@pytest.mark.parametrize(
    ("used", "requested", "expected"),
    [
        # 181 days of validity allow 90 nights; nights of the previous certification do not count.
        (
            [stay("2024-12-01", "2024-12-31"), stay("2025-02-01", "2025-04-22")],
            stay("2025-05-01", "2025-05-16"),
            [("2025-01-01", "2025-07-01", 90, 80, 15)],
        ),
        ([], stay("2025-06-25", "2025-07-05"), [("2025-01-01", "2025-07-01", 90, 0, 6)]),
        ([], stay("2025-07-01", "2025-07-05"), []),
    ],
)
def test_half_certification_counts_within_the_certification(
    used: list[Stay], requested: Stay, expected: list[tuple[str, str, int, int, int]]
) -> None:
    periods = nights_used_by_period(
        HalfCertification(), used, requested, certification=CERTIFICATION
    )
    assert [
        (p.start.isoformat(), p.end.isoformat(), p.limit, p.used, p.requested) for p in periods
    ] == expected


def test_half_certification_without_a_certification_has_no_period() -> None:
    assert nights_used_by_period(HalfCertification(), [], night("2025-05-01")) == []


def test_public_names_are_importable() -> None:
    assert all(hasattr(eligibility, name) for name in eligibility.__all__)
